"""Markdown building blocks for pull request bodies and check summaries.

Everything a renderer shows from the artifact goes through these helpers, so content can never
break the surrounding Markdown (a pipe in a table cell, backticks in a code block) and never
hides from the reviewer (an HTML comment in a preview is shown, not swallowed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

ELLIPSIS = "…"

_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----.*?(-----END \1PRIVATE KEY( BLOCK)?-----|\Z)",
    re.DOTALL,
)
# Credentials whose shape is well known: cloud access key ids and forge/model/chat tokens.
_TOKENS = re.compile(r"\bAKIA[0-9A-Z]{16}\b|\b(?:ghp|gho|ghs|ghu|github_pat|sk-ant|xox[bap])[_-][A-Za-z0-9_-]{16,}")
SECRET_CONTENT = (
    ("private key in content", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")),
    ("token in content", _TOKENS),
)


def redact(text: str) -> str:
    """Replace private keys and well-known tokens with markers: a PR body must not republish a leaked secret."""
    return _TOKENS.sub("[redacted token]", _PRIVATE_KEY_BLOCK.sub("[redacted private key]", text))


def bound(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def tail(text: str, limit: int) -> str:
    """The last `limit` characters of `text` (the end of a log is where the error is)."""
    if len(text) <= limit:
        return text
    return ELLIPSIS + text[-(limit - 1) :]


def plural(count: int, noun: str, suffix: str = "s") -> str:
    """`1 file`, `2 files`."""
    return f"{count} {noun}{'' if count == 1 else suffix}"


def code_span(text: str) -> str:
    """Inline code that survives backticks and pipes inside `text` (for table cells)."""
    text = text.replace("\n", " ").replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def cell(text: str, limit: int = 80) -> str:
    """A table cell: one line, pipes and HTML escaped (no comment can hide the rest), bounded."""
    one_line = " ".join(redact(text).split())
    return html_text(bound(one_line, limit)).replace("|", "\\|")


def value_cell(value: object, limit: int = 60) -> str:
    """A structured value as compact JSON in inline code, bounded."""
    if isinstance(value, str):
        shown = json.dumps(redact(value), ensure_ascii=False)
    else:
        shown = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return code_span(bound(shown, limit))


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Lines of a Markdown table; cells must already be escaped (see `cell`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def fence(text: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `text`."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = redact(text).rstrip("\n")
    return f"{ticks}{info}\n{body}\n{ticks}"


def details(summary: str, body: str, *, open_: bool = False) -> str:
    """A collapsible block; blank lines around the body let GitHub render Markdown inside."""
    opening = "<details open>" if open_ else "<details>"
    return f"{opening}<summary>{html_text(summary)}</summary>\n\n{body}\n\n</details>"


def html_text(text: str) -> str:
    """Text safe inside an HTML element."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(markdown: str) -> str:
    """A blockquote of Markdown as it will render, with HTML comments made visible.

    A preview must show the reviewer everything the merged file contains; a comment
    would render as nothing, so its opening is escaped.
    """
    visible = redact(markdown).replace("<!--", "&lt;!--").rstrip("\n")
    return "\n".join(f"> {line}" if line else ">" for line in visible.split("\n"))


def signed(additions: int, deletions: int) -> str:
    """`+3 -1`."""
    return f"+{additions} -{deletions}"
