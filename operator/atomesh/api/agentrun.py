"""The AgentRun kind: one execution of an Agent, from runner pod to reviewed artifact."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from atomesh.api.agent import AgentSpec, ArtifactType
from atomesh.api.common import Condition, LocalObjectReference, ObjectMeta, SpecModel, StatusModel
from atomesh.api.context import ContextVersion

TriggerKind = Literal["manual", "schedule", "event", "mesh", "revision", "memory"]
Phase = Literal[
    "Queued", "Pending", "Running", "Paused", "AwaitingReview", "Succeeded", "Rejected", "Failed", "Cancelled"
]
PHASES: tuple[Phase, ...] = (
    "Queued",
    "Pending",
    "Running",
    "Paused",
    "AwaitingReview",
    "Succeeded",
    "Rejected",
    "Failed",
    "Cancelled",
)
TERMINAL_PHASES: frozenset[Phase] = frozenset({"Succeeded", "Rejected", "Failed", "Cancelled"})
# Queued counts as active: a run waiting for its budget window still holds its schedule's, trigger's and
# mesh's concurrency (as a CronJob's pending Job does), so waiting never piles up runs.
ACTIVE_PHASES: frozenset[Phase] = frozenset({"Queued", "Pending", "Running"})
# Paused is neither: the run stopped at its hard limit with its session kept, holds no pod and no
# concurrency slot, and resumes (a new runner pod) when its budget is raised or it is asked to.
ReviewState = Literal["open", "changesRequested", "merged", "closed"]


class Trigger(SpecModel):
    """What started the run."""

    kind: TriggerKind = Field(
        default="manual",
        description="manual, schedule, event, mesh, revision, or memory (a lesson from the review of `source`).",
    )
    source: str | None = Field(default=None, description="Who or what triggered it, e.g. <mesh>/<edge> or a user.")


class Feedback(SpecModel):
    """A reviewer's comment that a revision run must address."""

    author: str = Field(min_length=1, description="Login of the reviewer.")
    body: str = Field(description="Text of the review or comment.")
    path: str | None = Field(default=None, description="File the comment is on, if any.")
    line: int | None = Field(default=None, ge=1, description="Line the comment is on, if any.")


class AgentRunSpec(SpecModel):
    """Desired state of an AgentRun."""

    agent_ref: LocalObjectReference = Field(description="The Agent to run, in the same namespace.")
    input: dict[str, Any] = Field(
        default_factory=dict,
        description="Input of the run; checked against the agent's spec.input.schema.",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )
    trigger: Trigger = Field(default_factory=Trigger, description="What started the run.")
    revision_of: str | None = Field(
        default=None, description="Name of the AgentRun this run revises after changes were requested."
    )
    feedback: list[Feedback] = Field(default_factory=list, description="Review feedback for a revision run.")
    cancel: bool = Field(default=False, description="Set to true to cancel the run; its pod is deleted.")


class AgentSnapshot(StatusModel):
    """The agent as it was when the run started; later edits of the Agent do not change the run."""

    name: str = Field(description="Name of the Agent.")
    revision: str = Field(default="", description="Agent revision, <ref>@sha1:<commit> or inline@<spec hash>.")
    commit: str | None = Field(default=None, description="Commit of the agent source, if it is in git.")
    spec_hash: str = Field(default="", description="sha256 of the agent spec.")
    spec: AgentSpec = Field(description="The agent spec the run uses.")
    contexts: list[ContextVersion] = Field(default_factory=list, description="The context versions the run uses.")


class Artifact(StatusModel):
    """The artifact the run produced."""

    type: ArtifactType = Field(description="code, doc, config, data, visual or spreadsheet.")
    branch: str | None = Field(default=None, description="Branch the artifact was pushed to.")
    base_branch: str | None = Field(default=None, description="Branch the pull request targets.")
    commit: str | None = Field(default=None, description="Commit of the artifact.")
    files: list[str] = Field(default_factory=list, description="Files the artifact changed.")
    additions: int = Field(default=0, description="Lines added.")
    deletions: int = Field(default=0, description="Lines deleted.")


class ReviewStatus(StatusModel):
    """The pull request that carries the artifact and its outcome."""

    provider: str = Field(default="github", description="Forge: github.")
    repo: str | None = Field(default=None, description="Repository as owner/name.")
    url: str | None = Field(default=None, description="Web URL of the pull request.")
    number: int | None = Field(default=None, description="Number of the pull request.")
    state: ReviewState | None = Field(default=None, description="open, changesRequested, merged or closed.")
    decided_by: str | None = Field(default=None, description="Who merged, closed or requested changes.")
    decided_at: str | None = Field(default=None, description="When (RFC 3339).")
    merge_commit: str | None = Field(default=None, description="Merge commit, once merged.")
    revision: int = Field(default=0, description="How many revisions preceded this run (0 for the first).")
    revision_run: str | None = Field(
        default=None, description="The revision AgentRun created after changes were requested."
    )
    published_at: str | None = Field(
        default=None, description="When the artifact was handed to review (RFC 3339); later feedback counts."
    )
    checks_passed: bool | None = Field(default=None, description="Whether every review check passed.")


class Usage(StatusModel):
    """Model usage of the run."""

    input_tokens: int = Field(default=0, description="Input tokens (including cache reads and writes).")
    output_tokens: int = Field(default=0, description="Output tokens.")
    cost_usd: float = Field(default=0.0, alias="costUSD", description="Cost in US dollars.")
    turns: int = Field(default=0, description="Agent turns.")


class Failure(StatusModel):
    """Why the run failed."""

    step: str | None = Field(default=None, description="Runner step that failed: checkout, agent or publish.")
    exit_code: int | None = Field(default=None, description="Exit code of the step.")
    reason: str = Field(default="", description="CamelCase reason.")
    message: str = Field(default="", description="The tail of the step's message.")


class StepTimes(StatusModel):
    """When one runner step ran, as its container reported it."""

    name: str = Field(description="checkout, agent or publish.")
    started_at: str | None = Field(default=None, description="When its container started (RFC 3339).")
    finished_at: str | None = Field(default=None, description="When it ended (RFC 3339).")
    exit_code: int | None = Field(default=None, description="Its exit code.")


class AgentRunStatus(StatusModel):
    """Observed state of an AgentRun."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    phase: Phase = Field(
        default="Pending",
        description=(
            "Queued (waits for a budget window), Pending, Running, Paused (stopped at its hard limit, session "
            "kept; resumes when the budget is raised), AwaitingReview, Succeeded, Rejected, Failed or Cancelled."
        ),
    )
    reason: str | None = Field(default=None, description="CamelCase reason of the current phase.")
    message: str | None = Field(default=None, description="Human-readable details of the current phase.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, Reconciling, Stalled.")
    agent: AgentSnapshot | None = Field(default=None, description="The agent revision and spec the run uses.")
    pod_name: str | None = Field(default=None, description="Name of the runner pod (of the current attempt).")
    attempt: int | None = Field(
        default=None, ge=1, description="Attempt of the runner pod: unset for the first, 2 after the first resume."
    )
    last_handled_resume: str | None = Field(
        default=None, description="Value of the atomesh.io/resume annotation last acted upon."
    )
    start_time: str | None = Field(default=None, description="When the run started (RFC 3339).")
    completion_time: str | None = Field(default=None, description="When the run reached a terminal phase (RFC 3339).")
    artifact: Artifact | None = Field(default=None, description="The artifact produced.")
    review: ReviewStatus | None = Field(default=None, description="The pull request and its outcome.")
    usage: Usage | None = Field(default=None, description="Model usage.")
    failure: Failure | None = Field(default=None, description="Why the run failed.")
    steps: list[StepTimes] = Field(
        default_factory=list, description="The runner's steps that ran, with their times, once its pod's work ended."
    )


class AgentRun(SpecModel):
    """An AgentRun resource as stored in Kubernetes."""

    model_config = SpecModel.model_config | {"extra": "ignore"}

    api_version: Literal["atomesh.io/v1alpha1"] = Field(
        default="atomesh.io/v1alpha1", description="atomesh.io/v1alpha1"
    )
    kind: Literal["AgentRun"] = Field(default="AgentRun", description="AgentRun")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: AgentRunSpec = Field(description="Desired state.")
    status: AgentRunStatus | None = Field(default=None, description="Observed state.")
