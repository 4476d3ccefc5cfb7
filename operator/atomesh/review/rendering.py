"""What an artifact renderer returns, and the sections every artifact type shares.

A renderer turns a ReviewInput into body sections plus a verdict for the check run: the failures
it found (a failed check, a config file that no longer parses) and how many things it checked,
so "nothing to check" (neutral) is told apart from "all good" (success).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from atomesh.review.markdown import cell, code_span, details, fence, plural, table, tail
from atomesh.review.risk import risky_files
from atomesh.review.surface import ChangedFile, CheckOutcome, Validation
from atomesh.review.truncation import Section

CHECK_OUTPUT_LIMIT = 3_000
VALIDATION_MESSAGES_LIMIT = 5


@dataclass
class Rendering:
    """Body sections in display order, and the verdict behind the check run."""

    sections: list[Section] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    checked: int = 0
    # Sections that also go into the check-run summary (findings, not previews).
    summary_sections: list[Section] = field(default_factory=list)

    def add(self, section: Section | None, *, in_summary: bool = False) -> None:
        """Append a section (None is skipped) to the body and, if asked, to the check summary."""
        if section is None:
            return
        self.sections.append(section)
        if in_summary:
            self.summary_sections.append(section)


def checks_sections(checks: tuple[CheckOutcome, ...]) -> list[Section]:
    """A table of `review.checks` results, then each check's output tail (failed ones first, open)."""
    if not checks:
        return []
    passed = sum(1 for check in checks if check.passed)
    rows = [(cell(check.name, 63), "✅ pass" if check.passed else "❌ fail", str(check.exit_code)) for check in checks]
    lead = "\n".join(["### Checks", "", f"{passed} of {plural(len(checks), 'check')} passed.", ""])
    lead += "\n" + "\n".join(table(["Check", "Result", "Exit code"], []))
    summary = Section(lead=lead, items=tuple("| " + " | ".join(row) + " |" for row in rows), unit="check")
    ordered = sorted(checks, key=lambda check: check.passed)
    outputs = tuple(
        details(
            f"{check.name}: {'passed' if check.passed else f'failed (exit {check.exit_code})'}",
            fence(tail(check.output_tail, CHECK_OUTPUT_LIMIT), "text") if check.output_tail else "_No output._",
            open_=not check.passed,
        )
        for check in ordered
    )
    return [summary, Section(lead="", items=outputs, unit="check output", joiner="\n\n")]


def check_failures(checks: tuple[CheckOutcome, ...]) -> list[str]:
    """One line per failed check."""
    return [f"check {check.name} failed (exit {check.exit_code})" for check in checks if not check.passed]


def validations_section(validations: tuple[Validation, ...]) -> Section | None:
    """Results of validators the runner ran (JSON Schema, kubernetes-validate), sorted by file."""
    if not validations:
        return None
    ordered = sorted(validations, key=lambda v: (v.path, v.validator, v.ok, v.messages))
    failed = sum(1 for v in ordered if not v.ok)
    rows = []
    for validation in ordered:
        messages = list(validation.messages[:VALIDATION_MESSAGES_LIMIT])
        more = len(validation.messages) - len(messages)
        if more:
            messages.append(f"… {plural(more, 'more message')}")
        shown = "<br>".join(cell(message, 200) for message in messages) or ""
        result = "✅ valid" if validation.ok else "❌ invalid"
        rows.append(f"| {code_span(validation.path)} | {cell(validation.validator, 40)} | {result} | {shown} |")
    lead = "\n".join(
        [
            "### Validation",
            "",
            f"{len(ordered) - failed} of {plural(len(ordered), 'validation')} passed.",
            "",
            *table(["File", "Validator", "Result", "Messages"], []),
        ]
    )
    return Section(lead=lead, items=tuple(rows), unit="validation")


def validation_failures(validations: tuple[Validation, ...]) -> list[str]:
    """One line per failed validation."""
    return [
        f"{v.path} fails {v.validator}" for v in sorted(validations, key=lambda v: (v.path, v.validator)) if not v.ok
    ]


def risky_section(files: tuple[ChangedFile, ...]) -> Section | None:
    """Files that deserve a second look, as a warning callout."""
    risky = risky_files(files)
    if not risky:
        return None
    lead = "\n".join(
        [
            "### Risky paths",
            "",
            "> [!WARNING]",
            f"> {plural(len(risky), 'changed file')} touch{'es' if len(risky) == 1 else ''}"
            " CI, dependencies, infrastructure or secrets; review them closely.",
            "",
        ]
    )
    items = tuple(f"- {code_span(path)}: {', '.join(reasons)}" for path, reasons in risky)
    return Section(lead=lead, items=items, unit="risky file")
