"""The Agent kind: one atomic unit of work with a defined input, output and purpose."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from atomesh.api.budget import AgentBudget, ArtifactCost, WindowSpend, run_limits
from atomesh.api.common import (
    DNS_SUBDOMAIN_PATTERN,
    DURATION_PATTERN,
    Condition,
    LocalObjectReference,
    ObjectMeta,
    SecretKeyRef,
    SpecModel,
    StatusModel,
    parse_duration,
)
from atomesh.api.context import AgentContext, AgentMemory, ContextVersion
from atomesh.api.rules import EXACTLY_ONE_SOURCE
from atomesh.api.surfaces import PageRendering, WorkbookCheck
from atomesh.api.triggers import EventRateLimit, EventTrigger

ArtifactType = Literal["code", "doc", "config", "data", "visual", "spreadsheet"]
HarnessKind = Literal["claude-code", "opencode", "litellm"]
Gateway = Literal["litellm"]
ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]
AutoMerge = Literal["never", "whenChecksPass"]


class AgentSource(SpecModel):
    """Instructions kept in git; runs use the commit that `ref` resolved to, so the agent is versioned by git."""

    repo: str = Field(min_length=1, description="Git URL of the repository holding the agent (AGENT.md in `path`).")
    ref: str = Field(default="main", min_length=1, description="Branch, tag or commit to resolve.")
    path: str = Field(default=".", min_length=1, description="Folder in the repository that holds AGENT.md.")


class AgentInput(SpecModel):
    """What a run of this agent takes."""

    json_schema: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"},
        alias="schema",
        description="JSON Schema (draft 2020-12) that every run's spec.input must satisfy.",
        json_schema_extra={"x-kubernetes-preserve-unknown-fields": True},
    )


class AgentOutput(SpecModel):
    """What a run of this agent produces: one artifact, reviewed as a pull request."""

    artifact: ArtifactType = Field(description="Artifact type; it decides the verification surface of the PR.")
    # Bounded so the API server's CEL cost estimate of the relative-path rule (api/rules.py) stays in budget.
    paths: list[Annotated[str, Field(max_length=512)]] = Field(
        default_factory=lambda: ["**"],
        min_length=1,
        max_length=64,
        description="Glob patterns (relative to the repository root) of the files the artifact may touch.",
    )
    allow_out_of_bounds_symlinks: bool = Field(
        default=False,
        description=(
            "Publish symbolic links that point outside the repository or outside the files spec.output.paths "
            "allows (as Argo CD's allowOutOfBoundsSymlinks). Off: such a link fails the run with "
            "SymlinkOutOfBounds and nothing is pushed. Links within bounds are always shown as risks on the PR."
        ),
    )


class Workspace(SpecModel):
    """The repository the agent works on and opens pull requests against."""

    repo: str = Field(min_length=1, description="Repository as owner/name on the forge, or a git URL.")
    base_branch: str = Field(default="main", min_length=1, description="Branch the work starts from and targets.")
    credentials_secret_ref: SecretKeyRef | None = Field(
        default=None,
        description=(
            "Secret key holding the forge token this agent's checkout and publish steps use (a team's or the "
            "agent's own); the operator's forge Secret when unset. Only those two steps receive it."
        ),
    )


class ModelPrice(SpecModel):
    """A model's price per million tokens, in US dollars: for a model the price table does not know
    (a fine-tuned or self-hosted model, a gateway's own name), so its cost can be counted and limited."""

    input_usd_per_mtok: float = Field(
        ge=0, alias="inputUSDPerMTok", description="US dollars per million input tokens (cache reads included)."
    )
    output_usd_per_mtok: float = Field(
        ge=0, alias="outputUSDPerMTok", description="US dollars per million output tokens."
    )

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1_000_000


class Harness(SpecModel):
    """The agent harness that runs in the pod, and its model."""

    kind: HarnessKind = Field(default="claude-code", description="Harness: claude-code, opencode or litellm.")
    model: str = Field(
        min_length=1, description="Model name, for example claude-sonnet-4-6 or anthropic/claude-sonnet-4-6."
    )
    max_turns: int = Field(default=30, ge=1, le=500, description="Maximum agent turns before the run fails.")
    allowed_tools: list[str] = Field(
        default_factory=list, description="Tools the harness may use (harness syntax, e.g. Edit, Bash(npm test:*))."
    )
    base_url: str | None = Field(
        default=None,
        alias="baseURL",
        description="Model API or LLM gateway base URL; defaults to the operator's configured endpoint.",
    )
    credentials_secret_ref: SecretKeyRef | None = Field(
        default=None, description="Secret key holding the model API key; only the agent step receives it."
    )
    gateway: Gateway | None = Field(
        default=None,
        description=(
            "litellm when the model endpoint is a LiteLLM proxy: every request carries the run's uid as its trace id "
            "and the agent, namespace and mesh as spend-log metadata and tags."
        ),
    )
    # None, not False, when unset: a defaulted field would change every Agent's spec hash, hence its revision.
    virtual_key: bool | None = Field(
        default=None,
        description=(
            "With gateway litellm: the operator creates a LiteLLM virtual key for this Agent from spec.budget "
            "(perDay, else perMonth, in USD) and its model, keeps it in the Secret `<agent>-gateway-key` and gives "
            "it to the model proxy instead of credentialsSecretRef; the gateway then refuses spend over the budget."
        ),
    )
    price: ModelPrice | None = Field(
        default=None,
        description=(
            "The model's price, for a model atomesh's price table does not know; without it such a model's "
            "runs count $0 and an Agent with a cost limit does not run."
        ),
    )


class Check(SpecModel):
    """A command run after the harness; its result is shown on the pull request."""

    name: str = Field(min_length=1, max_length=63, description="Name of the check, shown on the pull request.")
    run: str = Field(min_length=1, description="Shell command run in the workspace; exit 0 passes.")


class Review(SpecModel):
    """How the artifact is reviewed."""

    reviewers: list[str] = Field(default_factory=list, description="Users asked to review the pull request.")
    team_reviewers: list[str] = Field(default_factory=list, description="Teams asked to review the pull request.")
    labels: list[str] = Field(default_factory=list, description="Extra labels put on the pull request.")
    draft: bool = Field(default=False, description="Open the pull request as a draft.")
    checks: list[Check] = Field(
        default_factory=list, max_length=32, description="Checks run in the workspace after the harness."
    )
    auto_merge: AutoMerge = Field(
        default="never", description="never, or whenChecksPass: merge once checks pass and no reviewer objected."
    )
    max_revisions: int = Field(
        default=3, ge=0, le=10, description="Revisions after requested changes before the run is Rejected."
    )
    pages: PageRendering | None = Field(
        default=None, description="Pages the publisher renders before and after for the visual surface."
    )
    workbook_checks: list[WorkbookCheck] = Field(
        default_factory=list, max_length=32, description="Totals in workbooks that must still balance."
    )


class Triggers(SpecModel):
    """When runs start on their own: on a schedule, and on events (api/triggers.py)."""

    schedule: str | None = Field(default=None, description="Cron expression (5 fields, or @hourly, @daily, ...).")
    timezone: str = Field(default="UTC", min_length=1, description="IANA time zone of the schedule.")
    concurrency_policy: ConcurrencyPolicy = Field(
        default="Forbid",
        description="Allow concurrent runs, Forbid a new run while one is active, or Replace the active one.",
    )
    # Bounded so the API server's CEL cost estimate of the unique-name rule (api/rules.py) stays in budget.
    events: list[EventTrigger] = Field(
        default_factory=list,
        max_length=32,
        description="Event triggers: GitHub events and signed webhooks that start a run.",
    )
    rate_limit: EventRateLimit | None = Field(
        default=None, description="At most this many event-triggered runs per window; deliveries beyond start nothing."
    )


class Limits(SpecModel):
    """Limits of one run."""

    timeout: str = Field(
        default="30m",
        min_length=1,
        pattern=DURATION_PATTERN,
        description="Wall-clock limit of a run, such as 15m or 1h30m.",
    )
    max_cost_usd: float | None = Field(
        default=None, gt=0, alias="maxCostUSD", description="Model spend after which the run fails, in US dollars."
    )
    max_tokens: int | None = Field(
        default=None, gt=0, description="Tokens (input and output) after which the run fails."
    )

    @field_validator("timeout")
    @classmethod
    def _timeout_is_positive(cls, value: str) -> str:
        parse_duration(value)
        return value


class RunnerSettings(SpecModel):
    """The runner pod."""

    image: str | None = Field(default=None, description="Runner image; defaults to the operator's runner image.")
    # Quantities are int-or-string as in a Pod (cpu: 1, memory: 512Mi).
    resources: dict[str, dict[str, int | str]] = Field(
        default_factory=dict, description="Container resources (requests and limits) of each runner step."
    )
    service_account_name: str | None = Field(
        default=None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description=(
            "ServiceAccount of the runner pod, in the Agent's namespace (a pod can name no other); the "
            "namespace's default when unset."
        ),
    )
    # None, not False, when unset: a defaulted field would change every Agent's spec hash, hence its revision.
    automount_service_account_token: bool | None = Field(
        default=None,
        description=(
            "Give the agent step its ServiceAccount's token (a projected, pod-bound token at "
            "/var/run/secrets/kubernetes.io/serviceaccount), for an agent that talks to the Kubernetes API. "
            "Off: no step holds one; checkout, publish and the model proxy never do."
        ),
    )

    @field_validator("resources")
    @classmethod
    def _known_resource_keys(cls, value: dict[str, dict[str, int | str]]) -> dict[str, dict[str, int | str]]:
        unknown = sorted(set(value) - {"requests", "limits"})
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}: only requests and limits are allowed")
        return value


class AgentSpec(SpecModel):
    """Desired state of an Agent."""

    # The exactly-one rule of instructions/source, for JSON Schema readers; the CRD has a CEL rule instead
    # (api/rules.py), whose message says what to set.
    model_config = SpecModel.model_config | {
        "json_schema_extra": {"oneOf": [{"required": ["instructions"]}, {"required": ["source"]}]}
    }

    purpose: str = Field(min_length=1, description="One sentence: what this agent is for.")
    instructions: str | None = Field(default=None, min_length=1, description="Instructions inline (or use source).")
    source: AgentSource | None = Field(default=None, description="Instructions in git (or use instructions).")
    input: AgentInput = Field(default_factory=AgentInput, description="Input contract of a run.")
    output: AgentOutput = Field(description="Output contract of a run.")
    workspace: Workspace = Field(description="Repository the agent works on.")
    harness: Harness = Field(description="Harness and model.")
    review: Review = Field(default_factory=Review, description="Review of the artifact.")
    triggers: Triggers = Field(default_factory=Triggers, description="Schedule, event triggers and concurrency.")
    limits: Limits = Field(default_factory=Limits, description="Time, cost and token limits of a run.")
    budget: AgentBudget | None = Field(
        default=None, description="Spend allowed per run, day and month; over a window's limit new runs wait."
    )
    runner: RunnerSettings = Field(default_factory=RunnerSettings, description="Runner pod settings.")
    context: AgentContext | None = Field(
        default=None, description="Organisational context (Context resources) the agent reads, by name or label."
    )
    memory: AgentMemory | None = Field(
        default=None, description="Lessons from review, in the workspace repository, proposed as pull requests."
    )
    history_limit: int = Field(default=20, ge=0, le=1000, description="Finished runs kept per agent.")
    suspend: bool = Field(default=False, description="Start no new scheduled or event-triggered runs while true.")

    def run_limits(self) -> tuple[float | None, int | None]:
        """The cost and token limits of one run: the lower of `limits` and `budget.perRun`."""
        per_run = self.budget.per_run if self.budget is not None else None
        return run_limits(self.limits.max_cost_usd, self.limits.max_tokens, per_run)

    @model_validator(mode="after")
    def _one_instruction_source(self) -> AgentSpec:
        if (self.instructions is None) == (self.source is None):
            raise ValueError(EXACTLY_ONE_SOURCE)
        return self


class RunCounters(StatusModel):
    """Runs of this agent by outcome."""

    total: int = Field(default=0, description="Runs created.")
    active: int = Field(default=0, description="Runs Pending or Running.")
    awaiting_review: int = Field(default=0, description="Runs whose pull request awaits review.")
    succeeded: int = Field(default=0, description="Runs whose artifact was accepted.")
    rejected: int = Field(default=0, description="Runs whose artifact was rejected.")
    failed: int = Field(default=0, description="Runs that failed.")


class ReviewRollup(StatusModel):
    """How the Agent's pull requests fared in review, over the runs it still has: its active runs and the
    finished ones `spec.historyLimit` keeps (the same runs `runs` counts). Counted by pull request, so
    a revision run adds no artifact of its own."""

    pull_requests: int = Field(default=0, description="Pull requests the runs opened.")
    decided: int = Field(default=0, description="Of them, merged or closed.")
    merged: int = Field(default=0, description="Of them, merged.")
    acceptance_rate: float | None = Field(
        default=None, description="merged / decided, from 0 to 1; unset while none was decided."
    )
    median_review_seconds: int | None = Field(
        default=None,
        description=(
            "Median time from a pull request's first hand-over to review until it was merged or closed, in "
            "seconds; unset while none was decided."
        ),
    )
    revisions_per_accepted: float | None = Field(
        default=None, description="Mean revisions before a merged pull request was merged; unset while none was."
    )


class AgentStatus(StatusModel):
    """Observed state of an Agent."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, ResolvedRefs, Reconciling, Stalled.")
    revision: str | None = Field(
        default=None,
        description="Resolved revision: <ref>@sha1:<commit> for git sources, inline@<spec hash> otherwise.",
    )
    commit: str | None = Field(default=None, description="Commit of the source that runs use.")
    spec_hash: str | None = Field(default=None, description="sha256 of the spec, the agent's version besides git.")
    contexts: list[ContextVersion] = Field(
        default_factory=list, description="The contexts runs use, each pinned to an immutable version."
    )
    last_run: str | None = Field(default=None, description="Name of the latest AgentRun.")
    last_schedule_time: str | None = Field(default=None, description="When a run was last scheduled (RFC 3339).")
    next_schedule_time: str | None = Field(default=None, description="When the next run is scheduled (RFC 3339).")
    runs: RunCounters = Field(default_factory=RunCounters, description="Counters of runs by outcome.")
    cost_usd: float = Field(default=0.0, alias="costUSD", description="Model spend of all runs, in US dollars.")
    budget: list[WindowSpend] = Field(
        default_factory=list, description="Spend of the current windows of spec.budget (perDay, perMonth)."
    )
    artifact_cost: ArtifactCost | None = Field(
        default=None, description="Spend of this month's runs and revisions per merged pull request."
    )
    reviews: ReviewRollup | None = Field(
        default=None, description="Acceptance rate, time to review and revisions of the runs' pull requests."
    )


class Agent(SpecModel):
    """An Agent resource as stored in Kubernetes."""

    model_config = SpecModel.model_config | {"extra": "ignore"}

    api_version: Literal["atomesh.io/v1alpha1"] = Field(
        default="atomesh.io/v1alpha1", description="atomesh.io/v1alpha1"
    )
    kind: Literal["Agent"] = Field(default="Agent", description="Agent")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: AgentSpec = Field(description="Desired state.")
    status: AgentStatus | None = Field(default=None, description="Observed state.")


__all__ = ["Agent", "AgentSpec", "AgentStatus", "LocalObjectReference"]
