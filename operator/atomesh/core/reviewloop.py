"""The review loop's decisions: what a pull request's state means for the run that opened it.

Pure: the controller observes the forge (pull request, reviews, permissions), hands the
observations over as the small types below, and gets a `ReviewDecision` back; `review_plan` turns
it into the run's `core.plan.Plan` (comments, the revision run, the status, the Event). A `merge`
decision is carried out by the controller first (the merge commit is part of the outcome) and
becomes `auto_merged`. A revision run is a new AgentRun with a deterministic name, so deciding
twice creates it once, and its comment is made only by the create that made it.

While a revision run works, the run it revises waits. A revision that publishes takes the pull
request over (it awaits review itself); one that ends without publishing — no change, failed or
cancelled — hands it back: the waiting run resumes awaiting review, counts that revision, and
ignores feedback older than the hand-back, so the next change request starts the next revision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRun, AgentRunStatus, Feedback, ReviewStatus
from atomesh.api.common import dump
from atomesh.api.constants import LABEL_RUN, LABEL_TRIGGER
from atomesh.core import plan as p
from atomesh.core.memory import accepts_lessons, build_memory_run
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.core.runphase import with_conditions

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})

Verdict = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
Action = Literal["wait", "succeed", "reject", "revise", "merge", "resume"]
# Phases in which a revision run has ended without taking the pull request over; a revision that
# published is AwaitingReview (or, once the pull request is decided, Succeeded/Rejected with it).
ENDED_WITHOUT_PUBLISHING = frozenset({"Succeeded", "Failed", "Cancelled"})


@dataclass(frozen=True)
class PullObservation:
    """The pull request as the forge reports it."""

    open: bool
    merged: bool
    merged_by: str | None = None
    merged_at: str | None = None
    merge_commit: str | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    draft: bool = False


@dataclass(frozen=True)
class ReviewItem:
    """A review, a line comment or a conversation comment, with the author's permission resolved."""

    author: str
    body: str
    submitted_at: str
    can_write: bool
    verdict: Verdict | None = None
    path: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class RevisionObservation:
    """The revision run the waiting run points at, as the cluster reports it."""

    name: str
    phase: str = ""
    reason: str = ""
    message: str = ""
    revision: int = 0
    exists: bool = True


@dataclass(frozen=True)
class ReviewDecision:
    """What the controller does next for a run awaiting review."""

    action: Action
    reason: str = ""
    message: str = ""
    decided_by: str | None = None
    decided_at: str | None = None
    merge_commit: str | None = None
    feedback: tuple[Feedback, ...] = field(default_factory=tuple)
    revision: int | None = None  # resume: the revision that ended, now counted


def _parse_time(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _since(items: list[ReviewItem], since: str | None) -> list[ReviewItem]:
    """Items submitted at or after `since`. GitHub timestamps have whole seconds, so a review made in
    the second the artifact was published counts (the feedback that led to a revision is always
    older: the revision's pod ran in between)."""
    start = _parse_time(since)
    return [item for item in items if _parse_time(item.submitted_at) >= start]


def decide_review(
    run: AgentRun,
    spec: AgentSpec,
    pull: PullObservation,
    items: list[ReviewItem],
    *,
    now: datetime,
    revision_run: RevisionObservation | None = None,
) -> ReviewDecision:
    """Decide the next step of a run in AwaitingReview.

    Merged → succeed; closed → reject; a revision at work (or not observed) → wait, or resume once
    `revision_run` shows it ended without publishing or no longer exists; changes requested by a writer since
    the artifact was published → a revision (or reject once `maxRevisions` is reached); auto-merge
    when the agent asks for it, the checks passed, no writer objected and the pull request is not a
    draft (GitHub refuses to merge a draft: someone marks it ready first); otherwise wait.
    Comments of users without write access never drive a revision.
    """
    status = run.status
    review = status.review if status else None
    if pull.merged:
        return ReviewDecision(
            "succeed",
            c.MERGED,
            f"pull request merged by {pull.merged_by or 'unknown'}",
            decided_by=pull.merged_by,
            decided_at=pull.merged_at,
            merge_commit=pull.merge_commit,
        )
    if not pull.open:
        return ReviewDecision(
            "reject",
            c.CLOSED,
            f"pull request closed without merge by {pull.closed_by or 'unknown'}",
            decided_by=pull.closed_by,
            decided_at=pull.closed_at,
        )
    if review is not None and review.revision_run:
        ended = _revision_ended(review.revision_run, review.revision + 1, revision_run) if revision_run else None
        if ended is not None:
            return ended
        return ReviewDecision("wait", c.CHANGES_REQUESTED, f"revision {review.revision_run} is addressing feedback")

    recent = [item for item in _since(items, review.published_at if review else None) if item.can_write]
    requests = [item for item in recent if item.verdict == "CHANGES_REQUESTED"]
    if requests:
        decider = requests[-1]
        revision = review.revision if review else 0
        if revision >= spec.review.max_revisions:
            return ReviewDecision(
                "reject",
                c.MAX_REVISIONS_REACHED,
                f"changes requested by {decider.author} after {revision} revision(s); maxRevisions is "
                f"{spec.review.max_revisions}",
                decided_by=decider.author,
                decided_at=decider.submitted_at,
            )
        feedback = tuple(
            Feedback(author=item.author, body=item.body, path=item.path, line=item.line)
            for item in recent
            if item.body.strip() or item.verdict == "CHANGES_REQUESTED"
        )
        return ReviewDecision(
            "revise",
            c.CHANGES_REQUESTED,
            f"changes requested by {decider.author}; starting revision {revision + 1}",
            decided_by=decider.author,
            decided_at=decider.submitted_at,
            feedback=feedback,
        )
    automatic = spec.review.auto_merge == "whenChecksPass" or accepts_lessons(run, spec)
    if automatic and review is not None and review.checks_passed:
        if pull.draft:
            return ReviewDecision(
                "wait", c.AWAITING_REVIEW, "checks passed; the pull request is a draft: merging once it is ready"
            )
        return ReviewDecision("merge", c.MERGED, "checks passed and no reviewer objected; merging")
    del now  # reserved for review timeouts
    if status is not None and status.reason == c.REVISION_ENDED_WITHOUT_CHANGE:
        # Nothing new since the hand-back: keep saying why the pull request is back in review.
        return ReviewDecision("wait", status.reason, status.message or "")
    return ReviewDecision("wait", c.AWAITING_REVIEW, "waiting for a reviewer")


def _revision_ended(name: str, expected: int, seen: RevisionObservation) -> ReviewDecision | None:
    """A `resume` decision when the revision run ended without publishing (or is gone), else None."""
    if not seen.exists:
        what = f"revision {name} no longer exists"
        number = expected
    elif seen.phase in ENDED_WITHOUT_PUBLISHING:
        number = seen.revision or expected
        if seen.phase == "Succeeded":
            what = f"revision {name} made no change"
        else:
            what = f"revision {name} ended {seen.phase} ({seen.reason or 'no reason'})"
        if seen.message:
            what += f": {seen.message}"
    else:
        return None
    return ReviewDecision(
        "resume",
        c.REVISION_ENDED_WITHOUT_CHANGE,
        f"{what}; waiting for a reviewer (request changes again for another revision)",
        revision=number,
    )


def auto_merged(merge_commit: str, now: str) -> ReviewDecision:
    """What a `merge` decision becomes once atomesh has merged the pull request itself (autoMerge)."""
    return ReviewDecision(
        "succeed",
        c.MERGED,
        "checks passed and no reviewer objected; merged by atomesh (autoMerge)",
        decided_by="atomesh",
        decided_at=now,
        merge_commit=merge_commit,
    )


def review_outcome(
    status: AgentRunStatus, decision: ReviewDecision, now: str, revision_run: str = ""
) -> AgentRunStatus:
    """The run's status once `decision` is applied (conditions not yet recomputed).

    succeed → Succeeded with the review merged; reject → Rejected with the review closed; revise →
    still AwaitingReview, the review pointing at `revision_run`; resume → still AwaitingReview, the
    revision counted and feedback before `now` spent; wait (or an unapplied merge) → only reason and
    message change.
    """
    review = status.review or ReviewStatus()
    decided = {"decided_by": decision.decided_by, "decided_at": decision.decided_at or now}
    if decision.action == "succeed":
        merged = review.model_copy(update={"state": "merged", "merge_commit": decision.merge_commit, **decided})
        phase: dict[str, Any] = {"phase": "Succeeded", "review": merged, "completion_time": now}
    elif decision.action == "reject":
        closed = review.model_copy(update={"state": "closed", **decided})
        phase = {"phase": "Rejected", "review": closed, "completion_time": now}
    elif decision.action == "revise":
        revising = review.model_copy(
            update={
                "state": "changesRequested",
                "decided_by": decision.decided_by,
                "decided_at": decision.decided_at,
                "revision_run": revision_run,
            }
        )
        phase = {"review": revising}
    elif decision.action == "resume":
        resumed = review.model_copy(
            update={
                "state": "open",
                "revision_run": None,
                "revision": max(review.revision, decision.revision or 0),
                "published_at": now,
            }
        )
        phase = {"review": resumed}
    else:
        phase = {}
    return status.model_copy(update={"reason": decision.reason, "message": decision.message, **phase})


def root_run_name(run: AgentRun) -> str:
    """The first run of a revision chain: revision runs are named `<root>-r<N>`."""
    name = run.metadata.name
    if run.spec.revision_of and "-r" in name:
        base, _, suffix = name.rpartition("-r")
        if suffix.isdigit():
            return base
    return name


def revision_run_name(run: AgentRun, revision: int) -> str:
    """Deterministic, so a decision applied twice (e.g. across a restart) creates one run."""
    return run_name(root_run_name(run), f"-r{revision}")


def build_revision_run(run: AgentRun, decision: ReviewDecision) -> dict[str, Any]:
    """The AgentRun that addresses the feedback on the same branch and pull request."""
    if decision.action != "revise":
        raise ValueError(f"a revision run needs a 'revise' decision, not {decision.action!r}")
    revision = (run.status.review.revision if run.status and run.status.review else 0) + 1
    labels = {
        key: value
        for key, value in run.metadata.labels.items()
        if key.startswith("atomesh.io/") and key not in (LABEL_RUN, LABEL_TRIGGER)
    }
    annotations = {k: v for k, v in run.metadata.annotations.items() if k.startswith("atomesh.io/")}
    return build_run(
        RunRequest(
            name=revision_run_name(run, revision),
            agent=run.spec.agent_ref.name,
            trigger="revision",
            source=run.metadata.name,
            namespace=run.metadata.namespace,
            input=run.spec.input,
            labels=labels,
            annotations=annotations,
            revision_of=run.metadata.name,
            feedback=[item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in decision.feedback],
            # A run that pushed to someone's pull request revises it there too, never opening its own.
            pull_request=run.spec.pull_request.model_dump(mode="json", by_alias=True)
            if run.spec.pull_request
            else None,
        )
    )


def review_plan(
    run: AgentRun, status: AgentRunStatus, decision: ReviewDecision, *, now: str, generation: int | None
) -> p.Plan:
    """The run's plan for `decision` (a `merge` already carried out, i.e. `auto_merged`)."""
    review = status.review or ReviewStatus()
    repo, number = review.repo or "", review.number or 0
    actions: list[p.Action] = []
    revision_name = ""
    if decision.action == "reject" and decision.reason == c.MAX_REVISIONS_REACHED:
        actions.append(p.Comment(repo, number, f"atomesh: {decision.message}. Closing this pull request."))
        actions.append(p.ClosePullRequest(repo, number))
    elif decision.action == "revise":
        revision = build_revision_run(run, decision)
        revision_name = revision["metadata"]["name"]
        where = f"AgentRun `{run.metadata.namespace or 'default'}/{revision_name}`"
        announce = p.Comment(repo, number, f"atomesh: {decision.message} ({where}).")
        actions.append(p.Create(revision, on_created=(announce,)))
    elif decision.action == "resume":
        actions.append(p.Comment(repo, number, f"atomesh: {decision.message}."))
    elif decision.action == "succeed" and status.agent is not None:
        # A merged revision teaches the agent: its feedback is proposed as memory (one run per revision).
        lesson = build_memory_run(run, status.agent.spec)
        if lesson is not None:
            where = f"AgentRun `{run.metadata.namespace or 'default'}/{lesson['metadata']['name']}`"
            announce = p.Comment(repo, number, f"atomesh: proposing this review's lesson as memory ({where}).")
            actions.append(p.Create(lesson, on_created=(announce,)))
    new = with_conditions(review_outcome(status, decision, now, revision_name), generation, now)
    events: tuple[p.Event, ...] = ()
    if new.phase != status.phase or new.reason != status.reason:
        type_: p.EventType = "Warning" if new.phase == "Rejected" else "Normal"
        events = (p.Event(type_, new.reason or new.phase, new.message or ""),)
    return p.Plan(status=dump(new), actions=tuple(actions), events=events)
