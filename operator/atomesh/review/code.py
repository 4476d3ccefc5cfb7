"""The code surface: what changed where, whether the checks pass, and which paths are risky."""

from __future__ import annotations

from atomesh.review.markdown import code_span, plural, signed
from atomesh.review.rendering import (
    Rendering,
    check_failures,
    checks_sections,
    risky_section,
    validation_failures,
    validations_section,
)
from atomesh.review.risk import file_risks
from atomesh.review.surface import ChangedFile, ReviewInput
from atomesh.review.truncation import Section


def _status(changed: ChangedFile) -> str:
    if changed.status == "renamed" and changed.previous_path:
        return f"renamed from {code_span(changed.previous_path)}"
    return changed.status + (" (binary)" if changed.binary else "")


def _row(changed: ChangedFile) -> str:
    risks = file_risks(changed)
    flag = "⚠️ " + ", ".join(risks) if risks else ""
    return (
        f"| {code_span(changed.path)} | {_status(changed)} | {signed(changed.additions, changed.deletions)} | {flag} |"
    )


def diff_stats_section(files: tuple[ChangedFile, ...]) -> Section:
    """Per-file diff stats with totals; risky files flagged inline."""
    additions = sum(changed.additions for changed in files)
    deletions = sum(changed.deletions for changed in files)
    lead = "\n".join(
        [
            "### Changes",
            "",
            f"**{plural(len(files), 'file')} changed**, {signed(additions, deletions)} lines.",
            "",
            "| File | Status | +/- | Risk |",
            "|---|---|---|---|",
        ]
    )
    return Section(lead=lead, items=tuple(_row(changed) for changed in files), unit="file")


def add_changes_and_checks(rendering: Rendering, inp: ReviewInput, files: tuple[ChangedFile, ...]) -> None:
    """Diff stats, risky paths, checks and validations after an artifact's own sections; failed
    checks and validations join the verdict."""
    rendering.add(diff_stats_section(files))
    rendering.add(risky_section(files), in_summary=True)
    for section in checks_sections(inp.checks):
        rendering.add(section, in_summary=True)
    rendering.add(validations_section(inp.validations), in_summary=True)
    rendering.failures += check_failures(inp.checks) + validation_failures(inp.validations)
    rendering.checked += len(inp.checks) + len(inp.validations)


def render_code(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """Diff stats, risky paths, checks and any validations; checks decide the verdict."""
    rendering = Rendering()
    add_changes_and_checks(rendering, inp, files)
    return rendering
