"""output.paths: glob patterns relative to the repository root, in the dialect of `core.globs`;
a leading `./` or `/` is dropped and a folder (`docs/`) means everything in it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from atomesh.core.globs import glob_regex


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    text = pattern.strip()
    while text.startswith("./"):
        text = text[2:]
    text = text.lstrip("/")
    if text.endswith("/"):
        text += "**"  # a folder means everything in it
    return glob_regex(text)


def allowed(path: str, patterns: Iterable[str]) -> bool:
    return any(compile_pattern(pattern).match(path) for pattern in patterns)


def disallowed(paths: Iterable[str], patterns: list[str]) -> list[str]:
    """The paths no pattern allows, sorted."""
    return sorted({path for path in paths if not allowed(path, patterns)})
