"""An Agent's run counters, last run and spend, rolled up from its AgentRuns.

Pure; the rollup owns only its own status fields (runs, costUSD, lastRun, reviews, budget, artifactCost)
and leaves the rest as read. `runs`, `costUSD` and `reviews` count the runs that still exist (the
active ones and the finished ones `spec.historyLimit` keeps), so they need no clock and an operator
restart computes the same; `reviews` is `core.reviewrecord`'s record of their pull requests, the
figures the fleet table shows. `budget` is the spend of the windows of the Agent's `spec.budget` and
`artifactCost` the month's cost per accepted artifact (core.budget), both as of the rollup's clock."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from atomesh.api.agent import ReviewRollup, RunCounters
from atomesh.api.agentrun import AgentRun
from atomesh.api.budget import BudgetWindows
from atomesh.api.common import dump
from atomesh.core.budget import run_spend, spending
from atomesh.core.plan import Plan
from atomesh.core.reviewrecord import review_record
from atomesh.core.supervision_facts import run_facts


def _spending(runs: list[AgentRun], budget: BudgetWindows | None, now: datetime) -> dict[str, Any]:
    windows, accepted = spending([run_spend(run) for run in runs], budget, now)
    return {"budget": [dump(window) for window in windows], "artifactCost": dump(accepted)}


def _reviews(runs: list[AgentRun]) -> dict[str, Any]:
    record = review_record(run_facts(run) for run in runs)
    median = record.median_review_seconds
    rate, revisions = record.acceptance_rate, record.revisions_per_accepted
    return dump(
        ReviewRollup(
            pull_requests=record.pull_requests,
            decided=record.decided,
            merged=record.merged,
            # Whole seconds and four digits: a status that changes in the 16th digit is written for nothing.
            acceptance_rate=None if rate is None else round(rate, 4),
            median_review_seconds=None if median is None else round(median),
            revisions_per_accepted=None if revisions is None else round(revisions, 4),
        )
    )


def rollup_runs(
    runs: list[AgentRun], budget: BudgetWindows | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Status fields of the Agent (wire names) computed from the runs that still exist (and, given the
    clock, its budget windows and cost per accepted artifact)."""
    counters = RunCounters(total=len(runs))
    cost = 0.0
    for run in runs:
        status = run.status
        phase = status.phase if status else "Pending"
        if phase in ("Pending", "Running"):
            counters.active += 1
        elif phase == "AwaitingReview":
            counters.awaiting_review += 1
        elif phase == "Succeeded":
            counters.succeeded += 1
        elif phase == "Rejected":
            counters.rejected += 1
        elif phase == "Failed":
            counters.failed += 1
        if status and status.usage:
            cost += status.usage.cost_usd
    latest = max(runs, key=lambda run: (run.metadata.creation_timestamp or "", run.metadata.name), default=None)
    result: dict[str, Any] = {
        "runs": counters.model_dump(mode="json", by_alias=True),
        "costUSD": round(cost, 6),
        "reviews": _reviews(runs),
    }
    if latest is not None:
        result["lastRun"] = latest.metadata.name
    if now is not None:
        result.update(_spending(runs, budget, now))
    return result


def plan_rollup(
    status: Mapping[str, Any], runs: list[AgentRun], budget: BudgetWindows | None = None, now: datetime | None = None
) -> Plan:
    """The Agent's status with its rollup fields recomputed (the others as they are)."""
    return Plan(status={**status, **rollup_runs(runs, budget, now)})
