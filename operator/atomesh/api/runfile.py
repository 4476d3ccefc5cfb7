"""The contract between the operator and the runner pod.

The operator puts a `RunFile` in the runner pod (an annotation projected at RUN_FILE_MOUNT), or in a
ConfigMap mounted there when too large; the steps read it.
The publish step writes a `PublishSummary` (at most 4 KiB of JSON) as its termination message;
the operator reads it back into the run's status. A failed agent step writes `<Reason>: <message>`
and, when the harness ran, a last line `usage: <Usage JSON>`, so the spend of a run that failed (at
its cost limit, say) still counts in its budgets. A run paused at a hard limit publishes nothing: its
summary's outcome is `paused`, with the reason. A resumed run's file carries its `attempt` and what its
earlier attempts `spent`. Neither carries a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import Artifact, Feedback, ReviewStatus, Trigger, Usage
from atomesh.api.budget import WindowRoom
from atomesh.api.common import StatusModel
from atomesh.api.context import ContextVersion


class RunFile(StatusModel):
    """Everything the runner steps need to know about the run."""

    namespace: str = Field(description="Namespace of the run.")
    run: str = Field(description="Name of the AgentRun.")
    run_uid: str = Field(default="", description="uid of the AgentRun.")
    agent: str = Field(description="Name of the Agent.")
    mesh: str = Field(default="", description="The Mesh the run belongs to, if any.")
    agent_revision: str = Field(default="", description="Agent revision the run uses.")
    agent_commit: str | None = Field(default=None, description="Commit of the agent source, if in git.")
    spec_hash: str = Field(default="", description="sha256 of the agent spec.")
    spec: AgentSpec = Field(description="Snapshot of the agent spec.")
    input: dict[str, Any] = Field(default_factory=dict, description="Run input.")
    trigger: Trigger = Field(default_factory=Trigger, description="What started the run.")
    branch: str = Field(description="Branch to push: atomesh/<agent>/<run>, or the original branch for a revision.")
    revision_of: str | None = Field(default=None, description="The run this one revises.")
    revision: int = Field(default=0, description="Revision number (0 for the first run).")
    pull_request: int | None = Field(default=None, description="PR number to update, for a revision.")
    feedback: list[Feedback] = Field(default_factory=list, description="Review feedback to address.")
    contexts: list[ContextVersion] = Field(default_factory=list, description="Contexts to give the harness.")
    attempt: int | None = Field(
        default=None,
        ge=2,
        description="Attempt of a resumed run (2 and up): it resumes its own paused session and work.",
    )
    spent: Usage | None = Field(
        default=None, description="Usage of the run's earlier attempts: it counts against the run's limits."
    )
    window_room: WindowRoom | None = Field(
        default=None, description="What the budget windows covering the run had left when this attempt started."
    )

    def hard_limits(self) -> HardLimits:
        """The run's cost and token limits over all its attempts: the per-run ones (`limits`, `budget.perRun`)
        or, when lower, what this attempt's budget windows allow on top of the earlier attempts' spend."""
        cost, tokens = self.spec.run_limits()
        limits = HardLimits(cost, tokens)
        room, spent = self.window_room, self.spent or Usage()
        if room is not None and room.usd is not None and (cost is None or spent.cost_usd + room.usd < cost):
            limits = HardLimits(
                round(spent.cost_usd + room.usd, 6), limits.max_tokens, room.usd_window, limits.tokens_from
            )
        if room is not None and room.tokens is not None:
            window_tokens = spent.input_tokens + spent.output_tokens + room.tokens
            if tokens is None or window_tokens < tokens:
                limits = HardLimits(limits.max_cost_usd, window_tokens, limits.cost_from, room.tokens_window)
        return limits


@dataclass(frozen=True)
class HardLimits:
    """A run's cost and token limits, and where each comes from (the spec fields, or a budget window)."""

    max_cost_usd: float | None = None
    max_tokens: int | None = None
    cost_from: str = "limits.maxCostUSD, budget.perRun.usd"
    tokens_from: str = "limits.maxTokens, budget.perRun.tokens"


PublishOutcome = Literal["published", "noChanges", "paused"]


class CheckResult(StatusModel):
    """Result of one review check."""

    name: str
    passed: bool
    exit_code: int = 0
    output_tail: str = ""


class PublishSummary(StatusModel):
    """The publish step's termination message."""

    outcome: PublishOutcome = Field(
        description="published, noChanges, or paused (the agent step stopped at a hard limit: nothing published)."
    )
    reason: str | None = Field(default=None, description="Why a paused run paused: BudgetExceeded or TokensExceeded.")
    artifact: Artifact | None = Field(default=None, description="The pushed artifact.")
    review: ReviewStatus | None = Field(default=None, description="The pull request opened or updated.")
    usage: Usage | None = Field(default=None, description="Model usage of the agent step.")
    checks: list[CheckResult] = Field(default_factory=list, description="Review check results.")
    message: str = Field(default="", description="One line for people.")


USAGE_LINE = "\nusage: "


def with_usage(text: str, usage: Usage | None, limit: int) -> str:
    """A failure's termination message: `text` cut to fit `limit` bytes with the usage line after it."""
    line = USAGE_LINE + usage.model_dump_json(by_alias=True) if usage is not None else ""
    room = limit - len(line.encode("utf-8"))
    data = text.encode("utf-8")
    if len(data) > room:
        text = data[: max(room - 3, 0)].decode("utf-8", errors="ignore") + "..."
    return text + line


def split_usage(message: str) -> tuple[str, Usage | None]:
    """A failed step's termination message and the usage it reports, if any (see `with_usage`)."""
    text, found, line = message.rpartition(USAGE_LINE)
    if not found:
        return message, None
    try:
        return text, Usage.model_validate_json(line)
    except ValueError:
        return message, None
