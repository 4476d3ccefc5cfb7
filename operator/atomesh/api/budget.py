"""Budgets: model spend allowed per run and per calendar window (day, month), in US dollars and tokens.

Declared where their owner keeps them in git: an Agent's `spec.budget` (its team), a Mesh's
`spec.budget` (the mesh's runs together), and the `Budget` kind, a namespaced object a platform team
owns that caps every Agent of its namespace, or those its `selector` picks, together.

A window's spend is counted from the `status.usage` of the runs that started in it (so it survives an
operator restart: the runs are the record). At `warnAtPercent` of a limit the owner gets a Warning
Event and the BudgetWarning condition; at the limit (hard) new runs wait in phase Queued, reason
BudgetExceeded, until the window opens again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from atomesh.api.common import Condition, ObjectMeta, SpecModel, StatusModel

WindowName = Literal["day", "month"]
DEFAULT_WARN_PERCENT = 80


class BudgetLimit(SpecModel):
    """A hard limit in US dollars, tokens (input and output), or both; whichever is reached first holds."""

    usd: float | None = Field(default=None, gt=0, description="US dollars.")
    tokens: int | None = Field(default=None, gt=0, description="Tokens, input and output together.")


class BudgetWindows(SpecModel):
    """Limits per calendar day and month, in UTC or `timezone` (checked like `triggers.timezone`)."""

    per_day: BudgetLimit | None = Field(default=None, description="Spend allowed per calendar day.")
    per_month: BudgetLimit | None = Field(default=None, description="Spend allowed per calendar month.")
    timezone: str = Field(
        default="UTC", min_length=1, description="IANA time zone in which days and months begin, e.g. Europe/Paris."
    )
    warn_at_percent: int = Field(
        default=DEFAULT_WARN_PERCENT,
        ge=1,
        le=100,
        description="Soft threshold: at this percentage of a limit, a Warning Event and the BudgetWarning condition.",
    )

    def limits(self) -> tuple[tuple[WindowName, BudgetLimit], ...]:
        windows: tuple[tuple[WindowName, BudgetLimit | None], ...] = (("day", self.per_day), ("month", self.per_month))
        return tuple((name, limit) for name, limit in windows if limit is not None)


class AgentBudget(BudgetWindows):
    """An Agent's budget: per run (enforced in flight by the model proxy) and per day and month."""

    per_run: BudgetLimit | None = Field(
        default=None, description="Spend allowed per run; with limits.maxCostUSD/maxTokens the lower one holds."
    )


class LabelSelector(SpecModel):
    """Agents by their labels (matchLabels only)."""

    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels an Agent must all carry.")

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.match_labels.items())


class BudgetSpec(BudgetWindows):
    """Desired state of a Budget."""

    selector: LabelSelector | None = Field(
        default=None, description="The Agents whose runs count and are capped; every Agent of the namespace if unset."
    )


class WindowSpend(StatusModel):
    """Spend of one window against its limit."""

    window: WindowName = Field(description="day or month.")
    start: str = Field(description="When the window began (RFC 3339, UTC).")
    end: str = Field(description="When the next window begins (RFC 3339, UTC).")
    cost_usd: float = Field(default=0.0, alias="costUSD", description="US dollars spent in the window.")
    tokens: int = Field(default=0, description="Tokens spent in the window.")
    limit_usd: float | None = Field(default=None, alias="limitUSD", description="The window's limit in US dollars.")
    limit_tokens: int | None = Field(default=None, description="The window's limit in tokens.")
    percent: int = Field(default=0, description="Highest share of a limit spent, in percent.")
    runs: int = Field(default=0, description="Runs that started in the window.")


class WindowRoom(StatusModel):
    """What the tightest budget windows covering a run had left when it started: its in-flight allowance."""

    usd: float | None = Field(default=None, description="US dollars left in the tightest window.")
    usd_window: str = Field(default="", description="That window, e.g. `Agent/tidy perDay`.")
    tokens: int | None = Field(default=None, description="Tokens left in the tightest window.")
    tokens_window: str = Field(default="", description="That window, e.g. `Budget/team perMonth`.")


class ArtifactCost(StatusModel):
    """What an accepted artifact of one Agent cost over the current month: all its runs and revisions."""

    agent: str | None = Field(default=None, description="Name of the Agent (in a Budget's status).")
    cost_usd: float = Field(default=0.0, alias="costUSD", description="Spend of its runs that started this month.")
    merged: int = Field(default=0, description="Pull requests of those runs that were merged.")
    cost_per_accepted_usd: float | None = Field(
        default=None, alias="costPerAcceptedUSD", description="costUSD / merged; unset while nothing was merged."
    )


class BudgetStatus(StatusModel):
    """Observed state of a Budget."""

    observed_generation: int | None = Field(default=None, description="Generation last reconciled.")
    conditions: list[Condition] = Field(default_factory=list, description="Ready, BudgetWarning, BudgetExceeded.")
    windows: list[WindowSpend] = Field(default_factory=list, description="Spend of the current windows.")
    cost_today_usd: float = Field(default=0.0, alias="costTodayUSD", description="Spend of the current day.")
    cost_this_month_usd: float = Field(default=0.0, alias="costThisMonthUSD", description="Spend of the current month.")
    agents: list[str] = Field(default_factory=list, description="The Agents the budget covers.")
    artifact_costs: list[ArtifactCost] = Field(
        default_factory=list, description="Cost per accepted artifact of each covered Agent, this month."
    )


class Budget(SpecModel):
    """A Budget resource as stored in Kubernetes: spend allowed to a namespace's Agents together."""

    model_config = SpecModel.model_config | {"extra": "ignore"}

    api_version: Literal["atomesh.io/v1alpha1"] = Field(
        default="atomesh.io/v1alpha1", description="atomesh.io/v1alpha1"
    )
    kind: Literal["Budget"] = Field(default="Budget", description="Budget")
    metadata: ObjectMeta = Field(default_factory=ObjectMeta, description="Standard object metadata.")
    spec: BudgetSpec = Field(description="Desired state.")
    status: BudgetStatus | None = Field(default=None, description="Observed state.")


def run_limits(
    max_cost_usd: float | None, max_tokens: int | None, per_run: BudgetLimit | None
) -> tuple[float | None, int | None]:
    """The per-run limits that hold: the lower of `limits` and `budget.perRun`, each side optional."""
    if per_run is None:
        return max_cost_usd, max_tokens
    cost = min((v for v in (max_cost_usd, per_run.usd) if v is not None), default=None)
    tokens = min((v for v in (max_tokens, per_run.tokens) if v is not None), default=None)
    return cost, tokens
