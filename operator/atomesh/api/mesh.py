"""The Mesh kind: atomic agents composed into a graph whose edges are gated by review."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from atomesh.api.budget import ArtifactCost, BudgetWindows, WindowSpend
from atomesh.api.common import DNS_LABEL_PATTERN, Condition, LocalObjectReference, ObjectMeta, SpecModel, StatusModel
from atomesh.api.context import AgentMemory

EdgeWhen = Literal["accepted", "completed"]


class MeshNode(SpecModel):
    """A node of the mesh: a named use of an Agent."""

    name: str = Field(
        min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN, description="Node name, unique in the mesh."
    )
    agent_ref: LocalObjectReference = Field(description="The Agent this node runs.")


class MeshEdge(SpecModel):
    """Run `to` when a run of `from` reaches the `when` state."""

    from_: str = Field(alias="from", min_length=1, max_length=63, description="Upstream node name.")
    to: str = Field(min_length=1, max_length=63, description="Downstream node name.")
    # Not `on`: YAML 1.1 parsers (kubectl's among them) read a bare `on:` key as the boolean true.
    when: EdgeWhen = Field(
        default="accepted",
        description="accepted: upstream PR merged; completed: upstream run reached any terminal phase.",
    )
    input: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Input of the downstream run: key -> expression such as ${upstream.input.issue}, "
            "${upstream.artifact.files}, ${upstream.review.url} or ${upstream.review.mergeCommit}."
        ),
    )


class MeshLimits(SpecModel):
    """Limits of the whole mesh."""

    max_active_runs: int | None = Field(
        default=None, ge=1, description="Runs of the mesh Pending or Running at once; more queue."
    )
    max_cost_usd_per_day: float | None = Field(
        default=None, gt=0, alias="maxCostUSDPerDay", description="Spend per UTC day after which new runs wait."
    )


class MeshSpec(SpecModel):
    """Desired state of a Mesh."""

    # Bounded so the API server's CEL cost estimate of the graph rules (api/rules.py) stays in budget.
    agents: list[MeshNode] = Field(min_length=1, max_length=100, description="Nodes of the mesh.")
    edges: list[MeshEdge] = Field(default_factory=list, max_length=200, description="Edges between nodes.")
    limits: MeshLimits = Field(default_factory=MeshLimits, description="Concurrency and budget of the mesh.")
    budget: BudgetWindows | None = Field(
        default=None, description="Spend allowed to the mesh's runs together per day and month; over it new runs wait."
    )
    suspend: bool = Field(default=False, description="Start no new runs while true.")
    memory: AgentMemory | None = Field(
        default=None,
        description="Memory shared by the mesh's nodes: a folder of their workspace repository that every "
        "node's run reads and where their lessons are proposed. A node whose Agent declares its own "
        "spec.memory keeps that one.",
    )


class PendingReview(StatusModel):
    """A run of the mesh whose pull request awaits review."""

    run: str = Field(description="Name of the AgentRun.")
    node: str = Field(default="", description="Mesh node of the run.")
    url: str | None = Field(default=None, description="URL of the pull request.")


class MeshStatus(StatusModel):
    """Observed state of a Mesh."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Reconciling, Stalled, BudgetExceeded."
    )
    agents_ready: int = Field(default=0, description="Nodes whose Agent is Ready.")
    agents_total: int = Field(default=0, description="Nodes in the mesh.")
    agents_summary: str = Field(default="0/0", description="Ready/total, for printing.")
    active_runs: int = Field(default=0, description="Runs of the mesh Pending or Running.")
    queued_runs: int = Field(default=0, description="Runs waiting for a concurrency slot or budget.")
    awaiting_review: int = Field(default=0, description="Runs whose pull request awaits review.")
    pending_reviews: list[PendingReview] = Field(default_factory=list, description="Pull requests awaiting review.")
    cost_today_usd: float = Field(
        default=0.0, alias="costTodayUSD", description="Spend of the mesh's runs today (UTC)."
    )
    last_execution: str | None = Field(default=None, description="Id of the latest mesh execution.")
    budget: list[WindowSpend] = Field(
        default_factory=list, description="Spend of the current windows of spec.budget (perDay, perMonth)."
    )
    artifact_cost: ArtifactCost | None = Field(
        default=None, description="Spend of this month's runs and revisions of the mesh per merged pull request."
    )


class Mesh(SpecModel):
    """A Mesh resource as stored in Kubernetes."""

    model_config = SpecModel.model_config | {"extra": "ignore"}

    api_version: Literal["atomesh.io/v1alpha1"] = Field(
        default="atomesh.io/v1alpha1", description="atomesh.io/v1alpha1"
    )
    kind: Literal["Mesh"] = Field(default="Mesh", description="Mesh")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: MeshSpec = Field(description="Desired state.")
    status: MeshStatus | None = Field(default=None, description="Observed state.")
