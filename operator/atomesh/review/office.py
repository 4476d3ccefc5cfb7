"""The slides-and-documents surface: the text of each .pptx slide and each .docx section, before and
after, with a line diff of what changed, and the page images the publisher rendered with LibreOffice
(before, after, difference) for those and for OpenDocument text and presentations (.odt, .odp), whose
text is not compared.

Slides are matched by position (slide 3 before against slide 3 after), so a reordered deck shows as
changed slides, as it does in a slide sorter; rendered pages are matched by position too; sections of
a document are matched by their heading (the text before the first heading is the "(untitled)"
section), so a section that moved but did not change is not shown. Invariants: a file that cannot be
read is a failure on the surface, never a crash; without page images the surface says so; every diff
is bounded in lines and only changed pages are shown, with the count of unchanged ones.
"""

from __future__ import annotations

import difflib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from docx import Document
from docx.opc.exceptions import PackageNotFoundError as DocxPackageNotFound
from pptx import Presentation
from pptx.exc import PackageNotFoundError as PptxPackageNotFound

from atomesh.review.markdown import cell, code_span, fence, plural
from atomesh.review.rendering import Rendering
from atomesh.review.surface import ChangedFile, ReviewInput, VisualEvidence
from atomesh.review.truncation import Section
from atomesh.review.visual import PAGE_THUMB_WIDTH, is_changed, picture, share_text

TEXT_SUFFIXES = frozenset({".pptx", ".docx"})  # text compared
OFFICE_SUFFIXES = TEXT_SUFFIXES | {".odp", ".odt"}  # page images rendered
DIFF_LINES = 40  # lines of diff shown per slide or section
WITH_PAGE_IMAGES = (
    "Pages rendered with LibreOffice by the publisher, compared by position; magenta marks changed pixels."
)
NO_PAGE_IMAGES = (
    "No page images were rendered (the publisher renders them with LibreOffice where the runner image"
    " carries it); the text of every slide and section is compared."
)


def is_office(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in OFFICE_SUFFIXES


class OfficeReadError(ValueError):
    """The bytes are not a .pptx or .docx file python-pptx or python-docx can read."""


@dataclass(frozen=True)
class Part:
    """A slide or a section: its label and its text lines."""

    label: str
    lines: tuple[str, ...]


def slides(data: bytes) -> list[Part]:
    """One part per slide: the text of every shape (tables cell by cell), top to bottom."""
    try:
        deck = Presentation(io.BytesIO(data))
    except (PptxPackageNotFound, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise OfficeReadError(str(error) or type(error).__name__) from error
    parts = []
    for number, slide in enumerate(deck.slides, 1):
        lines: list[str] = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                lines += [p.strip() for p in shape.text_frame.text.splitlines() if p.strip()]
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    lines.append(" | ".join(c.text.strip() for c in row.cells))
        title = slide.shapes.title.text_frame.text.strip() if slide.shapes.title is not None else ""
        parts.append(Part(f"Slide {number}" + (f": {title}" if title else ""), tuple(lines)))
    return parts


def sections(data: bytes) -> list[Part]:
    """One part per heading of the document, with the paragraphs under it."""
    try:
        document = Document(io.BytesIO(data))
    except (DocxPackageNotFound, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise OfficeReadError(str(error) or type(error).__name__) from error
    parts: list[Part] = []
    label, lines = "(untitled)", list[str]()
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        style = paragraph.style.name if paragraph.style is not None and paragraph.style.name else ""
        if style.startswith("Heading") or style == "Title":
            if lines or label != "(untitled)":
                parts.append(Part(label, tuple(lines)))
            label, lines = text or "(empty heading)", []
        elif text:
            lines.append(text)
    if lines or label != "(untitled)":
        parts.append(Part(label, tuple(lines)))
    return parts


def _diff(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    lines = list(difflib.unified_diff(before, after, lineterm="", n=1))[2:]
    shown = lines[:DIFF_LINES]
    if len(lines) > DIFF_LINES:
        shown.append(f"… {plural(len(lines) - DIFF_LINES, 'more line')}")
    return fence("\n".join(shown), "diff")


def _compare(path: str, before: list[Part], after: list[Part], by_label: bool) -> list[str]:
    blocks = []
    if by_label:
        old = {part.label: part for part in before}
        new = {part.label: part for part in after}
        labels = [part.label for part in after] + [part.label for part in before if part.label not in new]
        pairs = [(old.get(label), new.get(label)) for label in dict.fromkeys(labels)]
    else:
        count = max(len(before), len(after))
        pairs = [(before[i] if i < len(before) else None, after[i] if i < len(after) else None) for i in range(count)]
    for old_part, new_part in pairs:
        shown = new_part if new_part is not None else old_part
        if shown is None or old_part == new_part:
            continue
        label = shown.label
        status = "added" if old_part is None else "removed" if new_part is None else "changed"
        diff = _diff(old_part.lines if old_part else (), new_part.lines if new_part else ())
        blocks.append(f"#### {code_span(path)} / {cell(label, 80)} ({status})\n\n{diff}")
    return blocks


def _pages_block(path: str, pages: list[VisualEvidence]) -> str:
    """The changed pages of one document as a before/after/difference table."""
    shown = [page for page in sorted(pages, key=lambda page: page.page) if is_changed(page)]
    lines = [f"#### {code_span(path)} pages", "", f"{len(shown)} of {plural(len(pages), 'page')} changed."]
    if shown:
        lines += ["", "| Page | Before | After | Difference | Changed |", "|---|---|---|---|---|"]
    for page in shown:
        label = f"{path} page {page.page}"
        lines.append(
            f"| {page.page} | {picture(page.before.url if page.before else None, f'{label} before', PAGE_THUMB_WIDTH)} "
            f"| {picture(page.after.url if page.after else None, f'{label} after', PAGE_THUMB_WIDTH)} "
            f"| {picture(page.diff_url, f'{label} difference', PAGE_THUMB_WIDTH)} | {share_text(page)} |"
        )
    return "\n".join(lines)


def _text_blocks(changed: ChangedFile, rendering: Rendering) -> list[str]:
    suffix = PurePosixPath(changed.path).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        return []
    is_deck = suffix == ".pptx"
    read = slides if is_deck else sections
    try:
        before = read(changed.before_data) if changed.before_data else []
        after = read(changed.after_data) if changed.after_data else []
    except OfficeReadError as error:
        rendering.failures.append(f"{changed.path} is not a readable {'deck' if is_deck else 'document'}")
        return [f"#### {code_span(changed.path)}\n\n❌ Cannot read the file: {cell(str(error), 200)}"]
    found = _compare(changed.path, before, after, by_label=not is_deck)
    return found or [f"#### {code_span(changed.path)}\n\nNo text changed (layout, images or formatting only)."]


def document_sections(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """One block per changed slide or section of every .pptx and .docx file, then the changed pages
    of every document the publisher rendered."""
    rendering = Rendering()
    documents = [changed for changed in files if is_office(changed.path)]
    if not documents:
        return rendering
    pages: dict[str, list[VisualEvidence]] = {}
    for evidence in inp.visuals:
        if evidence.page:
            pages.setdefault(evidence.path, []).append(evidence)
    blocks: list[str] = []
    for changed in documents:
        blocks += _text_blocks(changed, rendering)
        if changed.path in pages:
            blocks.append(_pages_block(changed.path, pages[changed.path]))
    note = WITH_PAGE_IMAGES if pages else NO_PAGE_IMAGES
    lead = f"### Slides and documents\n\n{plural(len(documents), 'file')} changed. {note}"
    rendering.add(Section(lead=lead, items=tuple(blocks), unit="slide, section or page table", joiner="\n\n"))
    return rendering
