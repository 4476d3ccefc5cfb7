"""Which agents are worth their cost: one fleet row per Agent, from its runs in a window.

Pure, like `core.supervision`.

Invariants:
- An artifact is a pull request, not a run: a revision run publishes onto the pull request of the run
  it revises, so acceptance, review time and revisions count each pull request once (by its URL, or
  the run's name when it has none).
- Acceptance rate is merged / decided (merged or closed); pull requests still open are not decided.
  None when nothing was decided, never a made-up 0 or 100%.
- Cost per accepted artifact is every run's spend in the window — failed, rejected and revision
  runs included — divided by the pull requests merged; None when none was.
- Every Agent has a row, even one without runs; runs of an Agent the viewer cannot see (deleted, or
  hidden by RBAC) get a row of their own, so no spend disappears from the table.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, AgentRun
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


@dataclass
class _PullRequest:
    state: str | None = None
    published: datetime | None = None
    decided: datetime | None = None
    revisions: int = 0


def _pull_requests(runs: Sequence[RunFacts]) -> dict[str, _PullRequest]:
    pulls: dict[str, _PullRequest] = {}
    for run in runs:
        if run.pr_state is None:
            continue
        pull = pulls.setdefault(run.pr_url or run.name, _PullRequest())
        if run.pr_state in ("merged", "closed") or pull.state is None:
            pull.state = run.pr_state
        if run.published is not None and (pull.published is None or run.published < pull.published):
            pull.published = run.published
        if run.pr_state in ("merged", "closed") and run.decided is not None:
            pull.decided = max(run.decided, pull.decided) if pull.decided else run.decided
        pull.revisions = max(pull.revisions, run.revision)
    return pulls


def _row(namespace: str, agent: str, runs: Sequence[RunFacts], suspended: bool, last_failure: str | None) -> FleetRow:
    pulls = _pull_requests(runs).values()
    merged = [pull for pull in pulls if pull.state == "merged"]
    decided = [pull for pull in pulls if pull.state in ("merged", "closed")]
    waits = [
        (pull.decided - pull.published).total_seconds()
        for pull in decided
        if pull.decided is not None and pull.published is not None and pull.decided >= pull.published
    ]
    cost = sum(run.cost_usd for run in runs)
    return FleetRow(
        namespace=namespace,
        agent=agent,
        runs=len(runs),
        active=sum(1 for run in runs if run.phase in ACTIVE_PHASES),
        awaiting_review=sum(1 for run in runs if run.phase == "AwaitingReview"),
        failed=sum(1 for run in runs if run.phase == "Failed"),
        merged=len(merged),
        decided=len(decided),
        acceptance_rate=len(merged) / len(decided) if decided else None,
        median_review_seconds=statistics.median(waits) if waits else None,
        cost_usd=round(cost, 6),
        cost_per_accepted_usd=round(cost / len(merged), 6) if merged else None,
        revisions_per_accepted=sum(pull.revisions for pull in merged) / len(merged) if merged else None,
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
