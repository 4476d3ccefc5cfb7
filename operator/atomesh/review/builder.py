"""Surface building: one ReviewInput in, the pull request's title, body, labels and check run out.

The body is laid out as: what this is (purpose, summary, verdict), links and file modes (whatever the
type), the artifact type's sections, the run input, the revision history, and the provenance last.
Only the artifact sections and the run input are truncated; intro, history and provenance are bounded
on their own, so provenance is never cut and the whole body stays under GitHub's limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from atomesh.review.code import render_code
from atomesh.review.config import render_config
from atomesh.review.data import render_data
from atomesh.review.doc import render_doc
from atomesh.review.filemodes import mode_section
from atomesh.review.markdown import bound, details, fence, plural, redact
from atomesh.review.office import document_sections
from atomesh.review.provenance import render_history, render_provenance
from atomesh.review.rendering import Rendering
from atomesh.review.spreadsheet import spreadsheet_sections
from atomesh.review.surface import ChangedFile, CheckConclusion, ReviewInput, Surface
from atomesh.review.truncation import BODY_BUDGET, SECTION_GAP, Section, fit, join
from atomesh.review.visual import visual_sections

Renderer = Callable[[ReviewInput, tuple[ChangedFile, ...]], Rendering]
RENDERERS: dict[str, Renderer] = {
    "code": render_code,
    "doc": render_doc,
    "config": render_config,
    "data": render_data,
    # Their own sections come from the per-file surfaces below; the rest is the code surface.
    "visual": render_code,
    "spreadsheet": render_code,
}
TITLE_LIMIT = 72
LABEL_LIMIT = 50  # GitHub's maximum label name length
PURPOSE_LIMIT = 500
SUMMARY_LIMIT = 4_000
INPUT_LIMIT = 3_000
_ICONS: dict[CheckConclusion, str] = {"success": "✅", "failure": "❌", "neutral": "⚪"}


def build_title(inp: ReviewInput) -> str:
    """`[atomesh] <agent>: <first line of the summary, or the purpose>`, at most 72 characters."""
    subject = next((line.strip() for line in inp.summary.splitlines() if line.strip()), "") or inp.purpose
    title = f"[atomesh] {inp.provenance.agent}: {' '.join(redact(subject).split())}"
    return bound(title, TITLE_LIMIT)


def build_labels(inp: ReviewInput) -> tuple[str, ...]:
    """`atomesh`, `artifact:<type>`, `agent:<name>` and the agent's extra labels, sorted and deduplicated."""
    labels = {"atomesh", f"artifact:{inp.artifact_type}", f"agent:{inp.provenance.agent}", *inp.extra_labels}
    return tuple(sorted({label.strip()[:LABEL_LIMIT] for label in labels if label.strip()}))


def conclusion_of(rendering: Rendering) -> CheckConclusion:
    """failure when anything failed, neutral when nothing was checked, success otherwise."""
    if rendering.failures:
        return "failure"
    return "neutral" if rendering.checked == 0 else "success"


def check_title(rendering: Rendering) -> str:
    """One line for the check run's title."""
    if rendering.failures:
        return bound(f"{plural(len(rendering.failures), 'problem')}: {'; '.join(rendering.failures)}", 120)
    if rendering.checked == 0:
        return "Nothing to check"
    return f"{plural(rendering.checked, 'check')} passed"


def _intro(inp: ReviewInput, conclusion: CheckConclusion, title: str) -> str:
    lines = [
        f"> Opened by the atomesh agent **{inp.provenance.agent}**. Merge to accept the {inp.artifact_type},"
        " close to reject it, or request changes to get a revision.",
        "",
        f"**Purpose:** {' '.join(bound(redact(inp.purpose), PURPOSE_LIMIT).split())}",
    ]
    if inp.summary.strip():
        lines += ["", "**Summary**", "", bound(redact(inp.summary.strip()), SUMMARY_LIMIT)]
    lines += ["", f"**Verification:** {_ICONS[conclusion]} {conclusion} — {title}"]
    return "\n".join(lines)


def _input_section(inp: ReviewInput) -> Section | None:
    if not inp.run_input:
        return None
    text = json.dumps(inp.run_input, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return Section(lead=details("Run input", fence(bound(text, INPUT_LIMIT), "json")))


def per_file_rendering(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """The surfaces chosen by file type, whatever the artifact type: images and pages (the
    publisher's comparisons), then workbooks, then slides and documents, then the artifact type's
    own sections."""
    merged = Rendering()
    for rendering in (
        visual_sections(inp),
        spreadsheet_sections(inp, files),
        document_sections(inp, files),
        RENDERERS[inp.artifact_type](inp, files),
    ):
        merged.sections += rendering.sections
        merged.summary_sections += rendering.summary_sections
        merged.failures += rendering.failures
        merged.checked += rendering.checked
    return merged


def build_surface(inp: ReviewInput) -> Surface:
    """The verification surface of one artifact: the same input always gives the same surface."""
    files = tuple(sorted(inp.files, key=lambda changed: (changed.path, changed.previous_path or "")))
    rendering = per_file_rendering(inp, files)
    conclusion = conclusion_of(rendering)
    summary_title = check_title(rendering)
    head = _intro(inp, conclusion, summary_title)
    foot = [render_history(inp.revision, inp.history), render_provenance(inp.provenance, inp.revision)]
    fixed = len(join([head, *foot])) + 2 * len(SECTION_GAP)
    modes = [section for section in [mode_section(files)] if section is not None]  # any artifact type
    sections = [*modes, *rendering.sections, *filter(None, [_input_section(inp)])]
    body = join([head, *fit(sections, BODY_BUDGET - fixed), *foot])
    verdict = "\n".join(f"- ❌ {failure}" for failure in rendering.failures)
    summary_head = f"**{_ICONS[conclusion]} {conclusion}** — {summary_title}" + (f"\n\n{verdict}" if verdict else "")
    summary_head = bound(summary_head, 10_000)
    summary = join([summary_head, *fit([*modes, *rendering.summary_sections], BODY_BUDGET - len(summary_head) - 2)])
    return Surface(
        title=build_title(inp),
        body=body,
        labels=build_labels(inp),
        check_name=f"atomesh/{inp.artifact_type}",
        check_conclusion=conclusion,
        check_title=summary_title,
        check_summary=summary,
    )
