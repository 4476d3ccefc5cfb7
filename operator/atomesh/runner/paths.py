"""output.paths: glob patterns relative to the repository root, with `**` across folders.

`*` and `?` stay within one path segment; `**` matches any number of segments, zero included,
so `docs/**` covers every file under docs/ and `**/*.md` every Markdown file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    text = pattern.strip()
    while text.startswith("./"):
        text = text[2:]
    text = text.lstrip("/")
    if text.endswith("/"):
        text += "**"  # a folder means everything in it
    out: list[str] = []
    index = 0
    while index < len(text):
        if text.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
        elif text.startswith("**", index):
            out.append(".*")
            index += 2
        elif text[index] == "*":
            out.append("[^/]*")
            index += 1
        elif text[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(text[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")


def allowed(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_pattern(pattern).match(path) for pattern in patterns)


def disallowed(paths: Iterable[str], patterns: list[str]) -> list[str]:
    """The paths no pattern allows, sorted."""
    return sorted({path for path in paths if not allowed(path, patterns)})
