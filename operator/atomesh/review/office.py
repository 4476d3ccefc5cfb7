"""The slides-and-documents surface: the text of each .pptx slide and each .docx section, before and
after, with a line diff of what changed.

Slides are matched by position (slide 3 before against slide 3 after), so a reordered deck shows as
changed slides, as it does in a slide sorter; sections of a document are matched by their heading
(the text before the first heading is the "(untitled)" section), so a section that moved but did not
change is not shown. Invariants: a file that cannot be read is a failure on the surface, never a
crash; page images are not rendered (that needs LibreOffice, which the runner image does not carry)
and the surface says so; every diff is bounded in lines.
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
from atomesh.review.surface import ChangedFile
from atomesh.review.truncation import Section

OFFICE_SUFFIXES = frozenset({".pptx", ".docx"})
DIFF_LINES = 40  # lines of diff shown per slide or section
NO_PAGE_IMAGES = (
    "Page images are not rendered: that needs LibreOffice, which the runner image does not carry;"
    " the text of every slide and section is compared instead."
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


def document_sections(files: tuple[ChangedFile, ...]) -> Rendering:
    """One block per changed slide or section of every .pptx and .docx file."""
    rendering = Rendering()
    documents = [changed for changed in files if is_office(changed.path)]
    if not documents:
        return rendering
    blocks: list[str] = []
    for changed in documents:
        is_deck = changed.path.lower().endswith(".pptx")
        read = slides if is_deck else sections
        try:
            before = read(changed.before_data) if changed.before_data else []
            after = read(changed.after_data) if changed.after_data else []
        except OfficeReadError as error:
            rendering.failures.append(f"{changed.path} is not a readable {'deck' if is_deck else 'document'}")
            blocks.append(f"#### {code_span(changed.path)}\n\n❌ Cannot read the file: {cell(str(error), 200)}")
            continue
        found = _compare(changed.path, before, after, by_label=not is_deck)
        blocks += found or [f"#### {code_span(changed.path)}\n\nNo text changed (layout, images or formatting only)."]
    lead = f"### Slides and documents\n\n{plural(len(documents), 'file')} changed. {NO_PAGE_IMAGES}"
    rendering.add(Section(lead=lead, items=tuple(blocks), unit="slide or section", joiner="\n\n"))
    return rendering
