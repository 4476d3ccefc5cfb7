"""Budget accounting: calendar windows, the spend of the runs in them, and whether a new run may start.

Pure: callers pass the runs (as `RunSpend`, read from their status), the budgets that apply and the
clock. Invariants:

- A run's spend (`status.usage`: cost and tokens) counts in the window in which it started
  (`status.startTime`, else its creation), whole, even when it finished after the window closed; a
  revision run counts as its own run. Nothing is stored besides the runs, so an operator restart
  (or a second operator) counts the same.
- Windows are calendar days and months in the budget's IANA time zone: a day starts at local
  midnight, a month on its first day at local midnight; bounds are returned in UTC.
- A limit is reached when spend >= limit (dollars or tokens, whichever comes first); a run that
  would start then waits until the latest opening among the windows that block it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atomesh.api.agentrun import AgentRun
from atomesh.api.budget import ArtifactCost as ArtifactCostStatus
from atomesh.api.budget import BudgetLimit, BudgetWindows, WindowName, WindowRoom, WindowSpend
from atomesh.api.constants import LABEL_MESH
from atomesh.core.schedule import parse_rfc3339, to_rfc3339


@dataclass(frozen=True)
class RunSpend:
    """What a run spent, and when it counts."""

    name: str
    agent: str
    mesh: str
    started: datetime | None
    cost_usd: float
    tokens: int
    merged_pull_request: str = ""  # owner/name#number once its pull request was merged


def run_spend(run: AgentRun) -> RunSpend:
    status, meta = run.status, run.metadata
    usage = status.usage if status else None
    started = parse_rfc3339(status.start_time if status else None) or parse_rfc3339(meta.creation_timestamp)
    return RunSpend(
        name=meta.name,
        agent=run.spec.agent_ref.name,
        mesh=meta.labels.get(LABEL_MESH, ""),
        started=started,
        cost_usd=usage.cost_usd if usage else 0.0,
        tokens=(usage.input_tokens + usage.output_tokens) if usage else 0,
        merged_pull_request=_merged_pull_request(run),
    )


def _merged_pull_request(run: AgentRun) -> str:
    review = run.status.review if run.status else None
    if review is None or review.state != "merged":
        return ""
    return f"{review.repo or ''}#{review.number or review.url or run.metadata.name}"


def window_bounds(window: WindowName, now: datetime, time_zone: str = "UTC") -> tuple[datetime, datetime]:
    """The calendar day or month containing `now` in `time_zone`, as [start, end) in UTC."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if window == "day":
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        after = start.date() + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=zone)
    else:
        start = datetime(local.year, local.month, 1, tzinfo=zone)
        year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
        end = datetime(year, month, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _percent(spent: float, limit: float | None) -> int:
    # Rounded first: 0.06 / 0.10 is 0.599999... in binary floating point, and 60% is what a person computes.
    return math.floor(round(spent * 100 / limit, 9)) if limit else 0


def window_spend(
    runs: Iterable[RunSpend], window: WindowName, limit: BudgetLimit | None, now: datetime, time_zone: str
) -> WindowSpend:
    """The spend of `runs` that started in the window containing `now`, against `limit`."""
    start, end = window_bounds(window, now, time_zone)
    inside = [run for run in runs if run.started is not None and start <= run.started < end]
    cost = round(sum(run.cost_usd for run in inside), 6)
    tokens = sum(run.tokens for run in inside)
    usd, max_tokens = (limit.usd, limit.tokens) if limit else (None, None)
    return WindowSpend(
        window=window,
        start=to_rfc3339(start),
        end=to_rfc3339(end),
        cost_usd=cost,
        tokens=tokens,
        limit_usd=usd,
        limit_tokens=max_tokens,
        percent=max(_percent(cost, usd), _percent(tokens, max_tokens)),
        runs=len(inside),
    )


def reached(spend: WindowSpend) -> bool:
    """The window's hard limit is reached."""
    over_usd = spend.limit_usd is not None and spend.cost_usd >= spend.limit_usd
    over_tokens = spend.limit_tokens is not None and spend.tokens >= spend.limit_tokens
    return over_usd or over_tokens


def describe(owner: str, spend: WindowSpend) -> str:
    """`Agent/x perDay: $0.05 of $0.05 spent, 1200 of 5000 tokens` — what a message says about a window."""
    parts = []
    if spend.limit_usd is not None:
        parts.append(f"${spend.cost_usd:.4f} of ${spend.limit_usd:g}")
    if spend.limit_tokens is not None:
        parts.append(f"{spend.tokens} of {spend.limit_tokens} tokens")
    key = "perDay" if spend.window == "day" else "perMonth"
    return f"{owner} {key}: {', '.join(parts)} spent"


@dataclass(frozen=True)
class BudgetScope:
    """One budget that applies to a run: who owns it (`Kind/name`), its windows, and the runs it counts."""

    owner: str
    windows: BudgetWindows
    counts: Callable[[RunSpend], bool]

    def spends(self, runs: Sequence[RunSpend], now: datetime) -> list[WindowSpend]:
        mine = [run for run in runs if self.counts(run)]
        return [window_spend(mine, name, limit, now, self.windows.timezone) for name, limit in self.windows.limits()]


@dataclass(frozen=True)
class BudgetBlock:
    """A new run may not start: the windows whose limits are reached, and when the last of them opens."""

    message: str
    opens_at: datetime

    def delay(self, now: datetime) -> float:
        return max(1.0, (self.opens_at - now).total_seconds())


def budget_gate(scopes: Iterable[BudgetScope], runs: Sequence[RunSpend], now: datetime) -> BudgetBlock | None:
    """None when every window of every scope has room; else why not, and when the run may start."""
    blocked: list[tuple[str, WindowSpend]] = [
        (scope.owner, spend) for scope in scopes for spend in scope.spends(runs, now) if reached(spend)
    ]
    if not blocked:
        return None
    opens_at = max(parse_rfc3339(spend.end) or now for _, spend in blocked)
    reasons = "; ".join(describe(owner, spend) for owner, spend in blocked)
    return BudgetBlock(f"{reasons}; waiting until {to_rfc3339(opens_at)}", opens_at)


def window_room(scopes: Iterable[BudgetScope], runs: Sequence[RunSpend], now: datetime) -> WindowRoom | None:
    """What is left, in dollars and in tokens, of the tightest window of every scope (never below 0);
    None when no window has a limit. A run started now may spend this much in flight: its model proxy
    pauses it there (each run gets the room there is at its start; runs starting together share it)."""
    usd: tuple[float, str] | None = None
    tokens: tuple[int, str] | None = None
    for scope in scopes:
        for spend in scope.spends(runs, now):
            window = f"{scope.owner} {'perDay' if spend.window == 'day' else 'perMonth'}"
            if spend.limit_usd is not None:
                left = round(max(spend.limit_usd - spend.cost_usd, 0.0), 6)
                usd = (left, window) if usd is None or left < usd[0] else usd
            if spend.limit_tokens is not None:
                left_tokens = max(spend.limit_tokens - spend.tokens, 0)
                tokens = (left_tokens, window) if tokens is None or left_tokens < tokens[0] else tokens
    if usd is None and tokens is None:
        return None
    return WindowRoom(
        usd=usd[0] if usd else None,
        usd_window=usd[1] if usd else "",
        tokens=tokens[0] if tokens else None,
        tokens_window=tokens[1] if tokens else "",
    )


@dataclass(frozen=True)
class ArtifactCost:
    """Spend of all runs (revisions included) over a window, and the pull requests of them merged."""

    cost_usd: float
    merged: int

    @property
    def per_accepted_usd(self) -> float | None:
        """Cost per accepted artifact; None while nothing was accepted."""
        return round(self.cost_usd / self.merged, 6) if self.merged else None


def artifact_cost(runs: Iterable[RunSpend], start: datetime, end: datetime) -> ArtifactCost:
    """Cost per accepted artifact of `runs` that started in [start, end): a merged pull request is one
    accepted artifact, counted once however many runs (a first run and its revisions) carry it."""
    inside = [run for run in runs if run.started is not None and start <= run.started < end]
    merged = {run.merged_pull_request for run in inside if run.merged_pull_request}
    return ArtifactCost(round(sum(run.cost_usd for run in inside), 6), len(merged))


def spending(
    runs: Sequence[RunSpend], budget: BudgetWindows | None, now: datetime
) -> tuple[list[WindowSpend], ArtifactCostStatus]:
    """What an owner's status shows: the spend of its budget's windows and this month's cost per accepted
    artifact (in the budget's time zone; UTC without a budget, or with a time zone that does not exist,
    which the owner's own reconcile reports)."""
    try:
        ZoneInfo(budget.timezone if budget is not None else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        budget = None
    timezone = budget.timezone if budget is not None else "UTC"
    windows = [window_spend(runs, name, limit, now, timezone) for name, limit in (budget.limits() if budget else ())]
    cost = artifact_cost(runs, *window_bounds("month", now, timezone))
    accepted = ArtifactCostStatus(
        cost_usd=cost.cost_usd, merged=cost.merged, cost_per_accepted_usd=cost.per_accepted_usd
    )
    return windows, accepted
