"""How an agent's artifacts fared in review: acceptance, time to review and revisions, from its runs.

Pure; the one definition behind the fleet table (console, `atomesh status`) and the Agent's
`status.reviews` (the operator), which differ only in the runs they hand over.

Invariants:
- An artifact is a pull request, not a run: a revision run publishes onto the pull request of the run
  it revises, so every figure counts each pull request once (by its URL, or the run's name when it
  has none).
- A pull request is decided once merged or closed; one still open (or with changes requested) is not.
  Acceptance rate is merged / decided; None when nothing was decided, never a made-up 0 or 100%.
- Time to review is, per decided pull request, from its first hand-over to review (the earliest
  `review.publishedAt` of its runs) to its decision (`review.decidedAt`, the merge or close); a
  pull request missing either time, or decided before it was published (clock skew), is left out.
- Revisions per accepted artifact is the mean, over merged pull requests, of the revisions that
  preceded the one merged (`review.revision`).
- A run awaits a reviewer when it is AwaitingReview and no revision run of it is at work (that run
  waits on its revision, not on a person); the review queue and its depth metric count these.
- A review wait ends once per decision a person (or autoMerge) makes on a run awaiting a reviewer —
  merged, closed or changes requested — and lasts from the artifact's hand-over (`publishedAt`, reset
  when a revision hands the pull request back) to that decision (`decidedAt`); a transition that
  decides nothing, or a run that waited on its revision, ends none.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from atomesh.api.agentrun import AgentRunStatus
from atomesh.core.supervision_facts import RunFacts, parse_time

DECIDED = frozenset({"merged", "closed"})
# What a person's decision leaves in review.state.
DECISIONS = frozenset({*DECIDED, "changesRequested"})


@dataclass(frozen=True)
class ReviewRecord:
    """The review outcome of a set of runs, counted by pull request."""

    pull_requests: int
    merged: int
    decided: int
    acceptance_rate: float | None
    median_review_seconds: float | None
    revisions_per_accepted: float | None


@dataclass
class _PullRequest:
    state: str | None = None
    published: datetime | None = None
    decided: datetime | None = None
    revisions: int = 0


def _pull_requests(runs: Iterable[RunFacts]) -> list[_PullRequest]:
    pulls: dict[str, _PullRequest] = {}
    for run in runs:
        if run.pr_state is None:
            continue
        pull = pulls.setdefault(run.pr_url or run.name, _PullRequest())
        if run.pr_state in DECIDED or pull.state is None:
            pull.state = run.pr_state
        if run.published is not None and (pull.published is None or run.published < pull.published):
            pull.published = run.published
        if run.pr_state in DECIDED and run.decided is not None:
            pull.decided = max(run.decided, pull.decided) if pull.decided else run.decided
        pull.revisions = max(pull.revisions, run.revision)
    return list(pulls.values())


def review_record(runs: Iterable[RunFacts]) -> ReviewRecord:
    """The record of the pull requests `runs` published."""
    pulls = _pull_requests(runs)
    merged = [pull for pull in pulls if pull.state == "merged"]
    decided = [pull for pull in pulls if pull.state in DECIDED]
    waits = [
        (pull.decided - pull.published).total_seconds()
        for pull in decided
        if pull.decided is not None and pull.published is not None and pull.decided >= pull.published
    ]
    return ReviewRecord(
        pull_requests=len(pulls),
        merged=len(merged),
        decided=len(decided),
        acceptance_rate=len(merged) / len(decided) if decided else None,
        median_review_seconds=statistics.median(waits) if waits else None,
        revisions_per_accepted=sum(pull.revisions for pull in merged) / len(merged) if merged else None,
    )


def awaits_reviewer(phase: str, revision_run: str | None) -> bool:
    """The run's pull request waits for a person (not for the run's revision)."""
    return phase == "AwaitingReview" and not revision_run


@dataclass(frozen=True)
class ReviewWait:
    """How long a run waited for the decision that ended its wait: merged, closed or changesRequested."""

    decision: str
    seconds: float


def review_wait(before: AgentRunStatus, after: AgentRunStatus) -> ReviewWait | None:
    """The wait the transition `before` → `after` of one run ended, if it recorded a decision; None also
    when a time is missing. A decision stamped before the hand-over (clock skew) waited 0 seconds."""
    old, new = before.review, after.review
    if old is None or new is None or not awaits_reviewer(before.phase, old.revision_run):
        return None
    if new.state not in DECISIONS or (old.state, old.decided_at) == (new.state, new.decided_at):
        return None
    published, decided = parse_time(old.published_at), parse_time(new.decided_at)
    if published is None or decided is None or new.state is None:
        return None
    return ReviewWait(decision=new.state, seconds=max(0.0, (decided - published).total_seconds()))
