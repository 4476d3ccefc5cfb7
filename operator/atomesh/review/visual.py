"""The visual surface: images and rendered pages before and after, with their highlighted difference.

The publisher compares and stores the pictures (it does the I/O); this module only lays out what it
passed in: one block per image file (before, after, difference, dimensions, bytes, changed share)
and one route x viewport table for pages. Invariants: every picture is a link to an asset the forge
serves, never inline data; a comparison the publisher could not make is shown with its reason, never
silently dropped; shares are shown with two decimals so 0.00 % differs from "identical".
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from atomesh.review.markdown import bound, cell, code_span, details, fence, html_text, plural, redact, tail
from atomesh.review.rendering import CHECK_OUTPUT_LIMIT, Rendering
from atomesh.review.surface import ReviewInput, Shot, SiteBuildOutcome, VisualEvidence
from atomesh.review.truncation import Section

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".svg", ".webp", ".gif"})
# Pixels each picture is shown at in the body (three to a row for images, three beside route and
# viewport for pages, within github.com's ~880-pixel column); the link opens the full size.
THUMB_WIDTH = 260
PAGE_THUMB_WIDTH = 180


def is_image(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in IMAGE_SUFFIXES


def human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def share_text(evidence: VisualEvidence) -> str:
    if evidence.changed_share is None:
        return cell(evidence.note, 120) if evidence.note else "—"
    if evidence.changed_share == 0:
        return "identical"
    return f"{evidence.changed_share * 100:.2f} % of pixels changed"


def _attribute(text: str) -> str:
    """A double-quoted HTML attribute value that also survives a Markdown table cell."""
    return html_text(text).replace('"', "&quot;").replace("|", "%7C")


def picture(url: str | None, alt: str, width: int = THUMB_WIDTH) -> str:
    if not url:
        return "_none_"
    src, label = _attribute(url), _attribute(" ".join(alt.split())[:120])
    return f'<a href="{src}"><img src="{src}" width="{width}" alt="{label}"></a>'


def shot_facts(shot: Shot | None) -> str:
    if shot is None:
        return "—"
    return f"{shot.width}x{shot.height} {shot.format}, {human_bytes(shot.size_bytes)}"


def _image_block(evidence: VisualEvidence) -> str:
    name = evidence.path
    lines = [
        f"#### {code_span(name)}",
        "",
        "| Before | After | Difference |",
        "|---|---|---|",
        f"| {picture(evidence.before.url if evidence.before else None, f'{name} before')} "
        f"| {picture(evidence.after.url if evidence.after else None, f'{name} after')} "
        f"| {picture(evidence.diff_url, f'{name} difference')} |",
        f"| {shot_facts(evidence.before)} | {shot_facts(evidence.after)} | {share_text(evidence)} |",
    ]
    if evidence.note and evidence.changed_share is not None:
        lines += ["", f"_{cell(evidence.note, 200)}_"]
    return "\n".join(lines)


def _page_row(evidence: VisualEvidence) -> str:
    route = evidence.path
    label = f"{route} {evidence.viewport}"
    return (
        f"| {code_span(route)} | {cell(evidence.viewport, 40)} "
        f"| {picture(evidence.before.url if evidence.before else None, f'{label} before', PAGE_THUMB_WIDTH)} "
        f"| {picture(evidence.after.url if evidence.after else None, f'{label} after', PAGE_THUMB_WIDTH)} "
        f"| {picture(evidence.diff_url, f'{label} difference', PAGE_THUMB_WIDTH)} | {share_text(evidence)} |"
    )


def is_changed(evidence: VisualEvidence) -> bool:
    return evidence.changed_share is None or evidence.changed_share > 0


def _build_verdict(build: SiteBuildOutcome) -> str:
    if build.passed:
        return "built"
    if build.problem:
        return f"failed: {build.problem}" + (f" (exit {build.exit_code})" if build.exit_code else "")
    return f"failed (exit {build.exit_code})"


def _inline_command(command: str) -> str:
    """The build command as inline code on a line of its own paragraph (not a table: pipes stay as written)."""
    text = bound(" ".join(redact(command).split()), 200)
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def site_build_section(inp: ReviewInput, rendering: Rendering) -> None:
    """How the declared site build went for base and head; a failed side is a failure of the surface
    (as a failed check is), shown with the tail of its log, open."""
    if not inp.site_builds:
        return
    built = sum(1 for build in inp.site_builds if build.passed)
    lines = [
        "### Site build",
        "",
        f"{_inline_command(inp.site_build_command)} run without credentials for the base and the head;"
        f" {built} of {len(inp.site_builds)} built.",
        "",
    ]
    lines += [f"- {build.side}: {cell(_build_verdict(build), 300)}" for build in inp.site_builds]
    logs = tuple(
        details(
            f"{build.side} build log",
            fence(tail(build.output_tail, CHECK_OUTPUT_LIMIT), "text") if build.output_tail else "_No output._",
            open_=True,
        )
        for build in inp.site_builds
        if not build.passed
    )
    rendering.add(Section(lead="\n".join(lines), items=logs, unit="build log", joiner="\n\n"), in_summary=True)
    rendering.checked += len(inp.site_builds)
    rendering.failures += [f"site build of the {b.side} failed" for b in inp.site_builds if not b.passed]


def visual_sections(inp: ReviewInput) -> Rendering:
    """The site build (when declared), image blocks, then the page table, then what could not be rendered."""
    rendering = Rendering()
    site_build_section(inp, rendering)
    # A document's page images are laid out with its text by the slides-and-documents surface.
    images = sorted((e for e in inp.visuals if not e.viewport and not e.page), key=lambda e: e.path)
    pages = sorted((e for e in inp.visuals if e.viewport), key=lambda e: (e.path, e.viewport))
    if images:
        changed = sum(1 for e in images if is_changed(e))
        lead = "\n".join(
            [
                "### Images",
                "",
                f"{plural(len(images), 'image')} compared, {changed} changed. Magenta marks changed pixels.",
            ]
        )
        rendering.add(Section(lead=lead, items=tuple(_image_block(e) for e in images), unit="image", joiner="\n\n"))
    if pages:
        routes = len({e.path for e in pages})
        viewports = len({e.viewport for e in pages})
        changed = sum(1 for e in pages if is_changed(e))
        lead = "\n".join(
            [
                "### Pages",
                "",
                f"{plural(routes, 'route')} x {plural(viewports, 'viewport')} rendered in headless Chromium by the"
                f" publisher; {changed} of {len(pages)} views changed. Magenta marks changed pixels.",
                "",
                "| Route | Viewport | Before | After | Difference | Changed |",
                "|---|---|---|---|---|---|",
            ]
        )
        rendering.add(Section(lead=lead, items=tuple(_page_row(e) for e in pages), unit="page view"))
    if inp.visual_notes:
        lead = "### Not rendered\n"
        rendering.add(Section(lead=lead, items=tuple(f"- {cell(note, 300)}" for note in inp.visual_notes)))
    return rendering
