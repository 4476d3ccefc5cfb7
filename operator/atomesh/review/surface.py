"""The review primitive's input and output: what publish gathered, and the surface a reviewer sees.

`publish` (runner) collects a `ReviewInput` from the workspace (file contents before and after,
check results, validation results it ran) and the renderers in this package turn it into a
`Surface`: the pull request's title, body and labels, and a check-run summary. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from atomesh.api.agent import ArtifactType

FileStatus = Literal["added", "modified", "deleted", "renamed"]
CheckConclusion = Literal["success", "failure", "neutral"]


@dataclass(frozen=True)
class ChangedFile:
    """One file of the artifact. `before`/`after` hold text content (None when absent or binary)."""

    path: str
    status: FileStatus
    additions: int = 0
    deletions: int = 0
    before: str | None = None
    after: str | None = None
    previous_path: str | None = None
    binary: bool = False
    # git's file modes ("100644", "100755", "120000" a symbolic link, "160000" a submodule); "" unknown
    mode: str = ""
    previous_mode: str = ""
    link_target: str | None = None  # what a symbolic link points to, as committed
    # Raw bytes of binary documents a surface reads itself (workbooks); None for everything else.
    before_data: bytes | None = None
    after_data: bytes | None = None


@dataclass(frozen=True)
class Shot:
    """One side of a visual comparison as the publisher stored it: where it is served, and its facts."""

    url: str
    format: str
    width: int
    height: int
    size_bytes: int


@dataclass(frozen=True)
class VisualEvidence:
    """An image file, a page route at one viewport, or one page of a document (a slide of a deck),
    compared before and after by the publisher.

    `viewport` is empty unless it is a page route; `page` is 0 unless it is a document's page (1-based).
    `changed_share` is None when there is nothing to compare (added or deleted) or when comparing
    failed (`note` says why).
    """

    path: str
    viewport: str = ""
    page: int = 0
    before: Shot | None = None
    after: Shot | None = None
    diff_url: str | None = None
    changed_share: float | None = None
    note: str = ""


@dataclass(frozen=True)
class SheetCheckSpec:
    """A check the Agent declares on a workbook: `cell` must equal the sum of `sum_of` (within `tolerance`)."""

    name: str
    path: str
    sheet: str
    cell: str
    sum_of: str
    tolerance: float = 0.005


@dataclass(frozen=True)
class CheckOutcome:
    """Result of one `review.checks` command."""

    name: str
    passed: bool
    exit_code: int = 0
    output_tail: str = ""


@dataclass(frozen=True)
class SiteBuildOutcome:
    """The build of one side (base or head) of a site the Agent declares a build for; `exit_code` is None
    when the build was stopped or never ran, and `problem` says why when no exit code does."""

    side: str
    passed: bool
    exit_code: int | None = None
    problem: str = ""
    output_tail: str = ""


@dataclass(frozen=True)
class Validation:
    """Result of a validator the runner ran on a file (e.g. kubernetes-validate, JSON Schema)."""

    path: str
    validator: str
    ok: bool
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Provenance:
    """Where the artifact came from; every PR carries it."""

    agent: str
    namespace: str
    run: str
    agent_revision: str
    spec_hash: str
    harness: str
    model: str
    trigger: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns: int = 0
    contexts: tuple[str, ...] = ()  # "<context name> <pinned revision>", one per context the run read
    resumed_session: str = ""  # the run whose harness session this run resumed


@dataclass(frozen=True)
class RevisionEntry:
    """One earlier revision of the same pull request."""

    revision: int
    run: str
    feedback_summary: str


@dataclass(frozen=True)
class ReviewInput:
    """Everything a renderer may show."""

    artifact_type: ArtifactType
    purpose: str
    files: tuple[ChangedFile, ...]
    provenance: Provenance
    run_input: dict[str, object] = field(default_factory=dict)
    summary: str = ""
    checks: tuple[CheckOutcome, ...] = ()
    validations: tuple[Validation, ...] = ()
    revision: int = 0
    history: tuple[RevisionEntry, ...] = ()
    extra_labels: tuple[str, ...] = ()
    visuals: tuple[VisualEvidence, ...] = ()
    visual_notes: tuple[str, ...] = ()  # what the publisher could not render, said on the surface
    site_builds: tuple[SiteBuildOutcome, ...] = ()  # base and head builds of spec.review.pages.build
    site_build_command: str = ""
    sheet_checks: tuple[SheetCheckSpec, ...] = ()


@dataclass(frozen=True)
class Surface:
    """The verification surface: what the pull request and its check run show."""

    title: str
    body: str
    labels: tuple[str, ...]
    check_name: str
    check_conclusion: CheckConclusion
    check_title: str
    check_summary: str
