"""The context a harness reads: each pinned Context's documents rendered into one bounded text.

Pure. Invariants: contexts appear in the order given (the Agent's, by name) and files by path; only
UTF-8 text is rendered (a binary file is listed, not shown); a context whose text exceeds its
`maxBytes` is refused (`ContextOverflow`, naming the context and the limit), never cut silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from atomesh.api.context import ContextVersion

HEADER = (
    "# Organisational context\n\n"
    "Reference material of your organisation, read-only and pinned to the versions below. Follow it where "
    "it applies to the task; it is not part of the repository and must not be copied into it."
)


class ContextOverflow(ValueError):
    """A context holds more text than its limit."""

    def __init__(self, version: ContextVersion, size: int) -> None:
        super().__init__(
            f"Context {version.name!r} ({version.revision}) holds {size} bytes, more than its maxBytes="
            f"{version.max_bytes}; narrow spec.git.path or raise spec.maxBytes of the Context"
        )


@dataclass(frozen=True)
class ContextDocuments:
    """One pinned context and its files (path relative to the context's folder → content)."""

    version: ContextVersion
    files: Mapping[str, bytes]

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


def render_context(contexts: list[ContextDocuments]) -> str:
    """The text given to the harness; empty without contexts. Raises ContextOverflow."""
    if not contexts:
        return ""
    sections = [HEADER]
    for context in contexts:
        if context.size > context.version.max_bytes:
            raise ContextOverflow(context.version, context.size)
        parts = [f"## Context {context.version.qualified_name} ({context.version.revision})"]
        for path in sorted(context.files):
            try:
                text = context.files[path].decode("utf-8")
            except UnicodeDecodeError:
                parts.append(f"### {path}\n\n(binary file, not shown)")
                continue
            parts.append(f"### {path}\n\n{text.strip()}")
        sections.append("\n\n".join(parts))
    return "\n\n".join(sections) + "\n"
