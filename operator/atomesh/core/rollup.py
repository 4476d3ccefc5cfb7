"""An Agent's run counters, last run and spend, rolled up from its AgentRuns."""

from __future__ import annotations

from typing import Any

from atomesh.api.agent import RunCounters
from atomesh.api.agentrun import AgentRun


def rollup_runs(runs: list[AgentRun]) -> dict[str, Any]:
    """Status fields of the Agent (wire names) computed from the runs that still exist."""
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
    }
    if latest is not None:
        result["lastRun"] = latest.metadata.name
    return result
