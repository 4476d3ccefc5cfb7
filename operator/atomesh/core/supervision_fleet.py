"""Which agents are worth their cost: one fleet row per Agent, from its runs in a window.

Pure, like `core.supervision`.

Invariants:
- Acceptance rate, time to review and revisions per accepted artifact are `core.reviewrecord`'s (the
  same figures the operator writes into an Agent's `status.reviews`), over the runs in the window.
- Cost per accepted artifact is every run's spend in the window — failed, rejected and revision
  runs included — divided by the pull requests merged; None when none was.
- Every Agent has a row, even one without runs; runs of an Agent the viewer cannot see (deleted, or
  hidden by RBAC) get a row of their own, so no spend disappears from the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, AgentRun
from atomesh.core.reviewrecord import review_record
from atomesh.core.supervision_facts import RunFacts, as_facts


@dataclass(frozen=True)
class FleetRow:
    """One agent's record over the window."""

    namespace: str
    agent: str
    runs: int
    active: int
    awaiting_review: int
    failed: int
    merged: int
    decided: int
    acceptance_rate: float | None
    median_review_seconds: float | None
    cost_usd: float
    cost_per_accepted_usd: float | None
    revisions_per_accepted: float | None
    last_failure_reason: str | None
    suspended: bool = False


def _row(namespace: str, agent: str, runs: Sequence[RunFacts], suspended: bool, last_failure: str | None) -> FleetRow:
    record = review_record(runs)
    cost = sum(run.cost_usd for run in runs)
    return FleetRow(
        namespace=namespace,
        agent=agent,
        runs=len(runs),
        active=sum(1 for run in runs if run.phase in ACTIVE_PHASES),
        awaiting_review=sum(1 for run in runs if run.phase == "AwaitingReview"),
        failed=sum(1 for run in runs if run.phase == "Failed"),
        merged=record.merged,
        decided=record.decided,
        acceptance_rate=record.acceptance_rate,
        median_review_seconds=record.median_review_seconds,
        cost_usd=round(cost, 6),
        cost_per_accepted_usd=round(cost / record.merged, 6) if record.merged else None,
        revisions_per_accepted=record.revisions_per_accepted,
        last_failure_reason=last_failure,
        suspended=suspended,
    )


def _last_failures(runs: Iterable[RunFacts]) -> dict[tuple[str, str], str]:
    """The reason of each agent's latest failed run, whenever it was (history is what it is for)."""
    latest: dict[tuple[str, str], tuple[datetime, str]] = {}
    never = datetime.min.replace(tzinfo=UTC)
    for run in runs:
        if run.phase != "Failed":
            continue
        when = run.completed or run.created or never
        reason = run.reason or run.failure_reason or "Failed"
        key = (run.namespace, run.agent)
        if key not in latest or when > latest[key][0]:
            latest[key] = (when, reason)
    return {key: reason for key, (_, reason) in latest.items()}


def fleet(
    agents: Iterable[Agent], runs: Sequence[AgentRun | RunFacts], now: datetime, window: timedelta = timedelta(days=7)
) -> list[FleetRow]:
    """One row per agent over runs created within `window` before `now`, by namespace and name."""
    start = now - window
    facts = [as_facts(run) for run in runs]
    by_agent: dict[tuple[str, str], list[RunFacts]] = defaultdict(list)
    for run in facts:
        created = run.created or run.started
        if created is None or created >= start:
            by_agent[(run.namespace, run.agent)].append(run)
    suspended = {(agent.metadata.namespace or "", agent.metadata.name): agent.spec.suspend for agent in agents}
    failures = _last_failures(facts)
    keys = sorted(set(suspended) | set(by_agent))
    return [
        _row(ns, name, by_agent.get((ns, name), []), suspended.get((ns, name), False), failures.get((ns, name)))
        for ns, name in keys
    ]
