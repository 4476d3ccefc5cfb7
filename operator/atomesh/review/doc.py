"""The doc surface: which sections of which documents changed, and how the changed ones will read.

Markdown is split into sections at ATX headings (`#` to `######`, outside code fences). A section is
known by its heading path (its ancestors' titles and its own), so moving text inside a section reads
as "changed" and a new heading reads as "added". The preview quotes added and changed sections as
GitHub will render them; other text files are previewed as plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from atomesh.review.code import add_changes_and_checks
from atomesh.review.markdown import code_span, fence, plural, quote
from atomesh.review.office import is_office
from atomesh.review.rendering import (
    Rendering,
)
from atomesh.review.surface import ChangedFile, ReviewInput
from atomesh.review.truncation import Section

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdx"})
PREVIEW_LIMIT = 8_000
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
TOP = "(top of file)"


@dataclass(frozen=True)
class DocSection:
    """One heading and the text up to the next heading."""

    key: tuple[str, ...]
    level: int
    title: str
    text: str


def split_sections(markdown: str) -> list[DocSection]:
    """Sections of a Markdown document in order; text before the first heading is the TOP section."""
    sections: list[DocSection] = []
    stack: list[tuple[int, str]] = []
    seen: dict[tuple[str, ...], int] = {}
    key: tuple[str, ...] = (TOP,)
    level, title = 0, TOP
    lines: list[str] = []
    fence_marker: str | None = None

    def close() -> None:
        text = "\n".join(lines).strip("\n")
        if text or key != (TOP,):
            sections.append(DocSection(key=key, level=level, title=title, text=text))

    for line in markdown.splitlines():
        opening = _FENCE.match(line)
        if fence_marker is not None:
            if opening and opening.group(1)[0] == fence_marker[0] and len(opening.group(1)) >= len(fence_marker):
                fence_marker = None
        elif opening:
            fence_marker = opening.group(1)
        elif heading := _HEADING.match(line):
            close()
            level, title = len(heading.group(1)), heading.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            path = tuple(name for _, name in stack)
            # A repeated heading path (two "Example" sections) is told apart by its occurrence.
            seen[path] = seen.get(path, 0) + 1
            key = path if seen[path] == 1 else (*path[:-1], f"{path[-1]} ({seen[path]})")
            lines = []
        lines.append(line)
    close()
    return sections


@dataclass(frozen=True)
class SectionChange:
    """How one section of a document changed."""

    change: str  # added, removed, changed, unchanged
    section: DocSection


def compare(before: str, after: str) -> list[SectionChange]:
    """Sections of `after` in order, each marked added/changed/unchanged, then the removed ones."""
    old = {section.key: section for section in split_sections(before)}
    new = split_sections(after)
    changes = []
    for section in new:
        previous = old.get(section.key)
        if previous is None:
            changes.append(SectionChange("added", section))
        else:
            changes.append(SectionChange("unchanged" if previous.text == section.text else "changed", section))
    new_keys = {section.key for section in new}
    changes.extend(SectionChange("removed", section) for key, section in old.items() if key not in new_keys)
    return changes


_MARKERS = {"added": "🟢 added", "removed": "🔴 removed", "changed": "🟡 changed"}


def _outline(changes: list[SectionChange]) -> list[str]:
    """Changed headings, with the unchanged headings above them kept for context."""
    relevant = {change.section.key for change in changes if change.change != "unchanged"}
    ancestors = {key[:depth] for key in relevant for depth in range(1, len(key))}
    lines = []
    for change in changes:
        key = change.section.key
        if key not in relevant and key not in ancestors:
            continue
        indent = "  " * max(len(key) - 1, 0)
        marker = _MARKERS.get(change.change, "")
        title = change.section.title
        lines.append(f"{indent}- {title}" + (f" — {marker}" if marker else ""))
    return lines


def _bounded_preview(text: str) -> str:
    if len(text) <= PREVIEW_LIMIT:
        return text
    cut = text[:PREVIEW_LIMIT].rsplit("\n", 1)[0]
    return cut + "\n\n_… preview cut here; the diff has the whole file._"


def _is_markdown(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in MARKDOWN_SUFFIXES


def _file_outline(changed: ChangedFile) -> str:
    head = f"#### {code_span(changed.path)} ({changed.status})"
    if changed.binary or (changed.after is None and changed.before is None):
        return head + "\n\n_Binary or unreadable file; not outlined._"
    if not _is_markdown(changed.path):
        return head + "\n\n_Not Markdown; previewed as text._"
    changes = compare(changed.before or "", changed.after or "")
    lines = _outline(changes)
    if not lines:
        return head + "\n\n_No section changed (whitespace or formatting only)._"
    return head + "\n\n" + "\n".join(lines)


def _file_preview(changed: ChangedFile) -> str | None:
    if changed.binary or changed.after is None or changed.status == "deleted":
        return None
    head = f"#### {code_span(changed.path)}"
    if not _is_markdown(changed.path):
        return head + "\n\n" + fence(_bounded_preview(changed.after), "text")
    shown = [
        change.section.text
        for change in compare(changed.before or "", changed.after)
        if change.change in ("added", "changed") and change.section.text.strip()
    ]
    if not shown:
        return None
    return head + "\n\n" + quote(_bounded_preview("\n\n".join(shown)))


def outline_section(files: tuple[ChangedFile, ...]) -> Section | None:
    """Per document: the headings that were added, removed or changed (slides and .docx files have
    their own surface, office.py)."""
    items = tuple(_file_outline(changed) for changed in files if not is_office(changed.path))
    if not items and files:
        return None
    return Section(lead="### Changed sections", items=items, unit="document", joiner="\n\n")


def preview_section(files: tuple[ChangedFile, ...]) -> Section | None:
    """Added and changed sections quoted as they will read once merged."""
    previews = tuple(preview for changed in files if (preview := _file_preview(changed)))
    if not previews:
        return None
    lead = "\n".join(["### Preview", "", f"How the changed sections will read ({plural(len(previews), 'document')}):"])
    return Section(lead=lead, items=previews, unit="document preview", joiner="\n\n")


def render_doc(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """Outline of changed sections and their preview; checks and validations decide the verdict."""
    rendering = Rendering()
    rendering.add(outline_section(files), in_summary=True)
    rendering.add(preview_section(files))
    add_changes_and_checks(rendering, inp, files)
    return rendering
