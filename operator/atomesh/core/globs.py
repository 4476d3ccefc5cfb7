"""Path globs, one dialect for every place that matches repository paths (`output.paths`, trigger
`paths` filters): `*` and `?` stay within one path segment, `**` matches any number of segments,
zero included, so `docs/**` covers every file under docs/ and `**/*.md` every Markdown file.
This is GitHub Actions' filter-pattern dialect without its `!` negation and character classes."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """The whole-path regular expression of `pattern`."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")
