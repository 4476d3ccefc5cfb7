"""What publish hands the review layer: the changed files with their text before and after,
checks, validations and provenance."""

from __future__ import annotations

from pathlib import PurePosixPath

import git

from atomesh.api.agentrun import Usage
from atomesh.api.runfile import CheckResult, RunFile
from atomesh.core.memory import MEMORY_LABEL, MEMORY_TRIGGER
from atomesh.core.memorycompaction import COMPACTION_TRIGGER
from atomesh.forge import git as gitops
from atomesh.review.office import OFFICE_SUFFIXES
from atomesh.review.surface import (
    ChangedFile,
    CheckOutcome,
    Provenance,
    ReviewInput,
    RevisionEntry,
    SheetCheckSpec,
    SiteBuildOutcome,
    VisualEvidence,
)
from atomesh.review.workbook import WORKBOOK_SUFFIXES
from atomesh.runner.validate import validate_config

TEXT_LIMIT = 200_000  # characters of one side of one file; the renderers bound what they show
WORKBOOK_LIMIT = 50 * 1024 * 1024  # bytes of one side of a workbook, deck or document a surface reads
KEPT_SUFFIXES = WORKBOOK_SUFFIXES | OFFICE_SUFFIXES  # binary files whose surfaces read their bytes


def _text(data: bytes | None) -> tuple[str | None, bool]:
    """(text, binary): NUL bytes or invalid UTF-8 mean binary."""
    if data is None:
        return None, False
    if b"\0" in data[:8192]:
        return None, True
    try:
        return data.decode("utf-8")[:TEXT_LIMIT], False
    except UnicodeDecodeError:
        return None, True


def _kept(data: bytes | None) -> bytes | None:
    return data if data is not None and len(data) <= WORKBOOK_LIMIT else None


def changed_files(repo: git.Repo, base: str, head: str) -> tuple[ChangedFile, ...]:
    files: list[ChangedFile] = []
    for change in gitops.diff_changes(repo, base, head):
        before_path = change.previous_path or change.path
        before_data = None if change.status == "added" else gitops.file_at(repo, base, before_path)
        before, before_binary = _text(before_data)
        after_data = None if change.status == "deleted" else gitops.file_at(repo, head, change.path)
        after, after_binary = _text(after_data)
        # Workbooks, decks and documents are read by their surfaces; other binaries are not kept.
        workbook = PurePosixPath(change.path).suffix.lower() in KEPT_SUFFIXES
        files.append(
            ChangedFile(
                path=change.path,
                status=change.status,
                additions=change.additions,
                deletions=change.deletions,
                before=before,
                after=after,
                previous_path=change.previous_path,
                binary=change.binary or before_binary or after_binary,
                before_data=_kept(before_data) if workbook else None,
                after_data=_kept(after_data) if workbook else None,
            )
        )
    return tuple(files)


def provenance(run: RunFile, usage: Usage, resumed_session: str = "", memory: str = "") -> Provenance:
    trigger = run.trigger.kind + (f" ({run.trigger.source})" if run.trigger.source else "")
    return Provenance(
        agent=run.agent,
        namespace=run.namespace,
        run=run.run,
        agent_revision=run.agent_revision,
        spec_hash=run.spec_hash,
        harness=run.spec.harness.kind,
        model=run.spec.harness.model,
        trigger=trigger,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        turns=usage.turns,
        contexts=tuple(f"{version.qualified_name} {version.revision}" for version in run.contexts)
        + ((memory,) if memory else ()),
        resumed_session=resumed_session,
    )


def build_review_input(
    run: RunFile,
    files: tuple[ChangedFile, ...],
    usage: Usage,
    checks: list[CheckResult],
    summary: str,
    resumed_session: str = "",
    memory: str = "",
    visuals: tuple[VisualEvidence, ...] = (),
    visual_notes: tuple[str, ...] = (),
    site_builds: tuple[SiteBuildOutcome, ...] = (),
) -> ReviewInput:
    spec = run.spec
    history: tuple[RevisionEntry, ...] = ()
    if run.revision_of:
        asked = "; ".join(f"@{item.author}: {item.body.strip()}" for item in run.feedback)[:500]
        history = (RevisionEntry(revision=max(run.revision - 1, 0), run=run.revision_of, feedback_summary=asked),)
    proposes_memory = run.trigger.kind in (MEMORY_TRIGGER, COMPACTION_TRIGGER)
    return ReviewInput(
        artifact_type="doc" if proposes_memory else spec.output.artifact,
        purpose=spec.purpose,
        files=files,
        provenance=provenance(run, usage, resumed_session, memory),
        run_input=dict(run.input),
        summary=summary.strip(),
        checks=tuple(CheckOutcome(c.name, c.passed, c.exit_code, c.output_tail) for c in checks),
        validations=validate_config(files) if spec.output.artifact == "config" else (),
        revision=run.revision,
        history=history,
        extra_labels=tuple(spec.review.labels) + ((MEMORY_LABEL,) if proposes_memory else ()),
        visuals=visuals,
        visual_notes=visual_notes,
        site_builds=site_builds,
        site_build_command=spec.review.pages.build.run if spec.review.pages and spec.review.pages.build else "",
        sheet_checks=tuple(
            SheetCheckSpec(w.name, w.path, w.sheet, w.cell, w.sum_of, w.tolerance) for w in spec.review.workbook_checks
        ),
    )
