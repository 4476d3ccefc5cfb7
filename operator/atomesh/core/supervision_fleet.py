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
from datetime import datetime, timedelta

from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, AgentRun
from atomesh.core.supervision import parse_time, run_agent, run_cost


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


def _pull_requests(runs: Sequence[AgentRun]) -> dict[str, _PullRequest]:
    pulls: dict[str, _PullRequest] = {}
    for run in runs:
        review = run.status.review if run.status else None
        if review is None or review.state is None:
            continue
        pull = pulls.setdefault(review.url or run.metadata.name, _PullRequest())
        if review.state in ("merged", "closed") or pull.state is None:
            pull.state = review.state
        published = parse_time(review.published_at)
        if published is not None and (pull.published is None or published < pull.published):
            pull.published = published
        decided = parse_time(review.decided_at)
        if review.state in ("merged", "closed") and decided is not None:
            pull.decided = max(decided, pull.decided) if pull.decided else decided
        pull.revisions = max(pull.revisions, review.revision)
    return pulls


def _row(namespace: str, agent: str, runs: Sequence[AgentRun], suspended: bool, last_failure: str | None) -> FleetRow:
    pulls = _pull_requests(runs).values()
    merged = [pull for pull in pulls if pull.state == "merged"]
    decided = [pull for pull in pulls if pull.state in ("merged", "closed")]
    waits = [
        (pull.decided - pull.published).total_seconds()
        for pull in decided
        if pull.decided is not None and pull.published is not None and pull.decided >= pull.published
    ]
    cost = sum(run_cost(run) for run in runs)
    phases = [run.status.phase if run.status else "Pending" for run in runs]
    return FleetRow(
        namespace=namespace,
        agent=agent,
        runs=len(runs),
        active=sum(1 for phase in phases if phase in ACTIVE_PHASES),
        awaiting_review=sum(1 for phase in phases if phase == "AwaitingReview"),
        failed=sum(1 for phase in phases if phase == "Failed"),
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


def _created(run: AgentRun) -> datetime | None:
    return parse_time(run.metadata.creation_timestamp) or parse_time(run.status.start_time if run.status else None)


def _last_failures(runs: Iterable[AgentRun]) -> dict[tuple[str, str], str]:
    """The reason of each agent's latest failed run, whenever it was (history is what it is for)."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for run in runs:
        status = run.status
        if status is None or status.phase != "Failed":
            continue
        when = status.completion_time or run.metadata.creation_timestamp or ""
        reason = status.reason or (status.failure.reason if status.failure else "") or "Failed"
        key = (run.metadata.namespace or "", run_agent(run))
        if key not in latest or when > latest[key][0]:
            latest[key] = (when, reason)
    return {key: reason for key, (_, reason) in latest.items()}


def fleet(
    agents: Iterable[Agent], runs: Sequence[AgentRun], now: datetime, window: timedelta = timedelta(days=7)
) -> list[FleetRow]:
    """One row per agent over runs created within `window` before `now`, by namespace and name."""
    start = now - window
    by_agent: dict[tuple[str, str], list[AgentRun]] = defaultdict(list)
    for run in runs:
        created = _created(run)
        if created is None or created >= start:
            by_agent[(run.metadata.namespace or "", run_agent(run))].append(run)
    suspended = {(agent.metadata.namespace or "", agent.metadata.name): agent.spec.suspend for agent in agents}
    failures = _last_failures(runs)
    keys = sorted(set(suspended) | set(by_agent))
    return [
        _row(ns, name, by_agent.get((ns, name), []), suspended.get((ns, name), False), failures.get((ns, name)))
        for ns, name in keys
    ]
