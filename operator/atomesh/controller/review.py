"""The review loop: a run in AwaitingReview follows its pull request until a person decides.

GitHub webhooks (HMAC-verified, redeliveries ignored) make the loop immediate; a delivery only wakes
the runs waiting on its pull request, and what happens is decided from the forge's state (reviews by
their own ids and times, not by the delivery that announced them), so a replayed delivery — under its
own or a new delivery id — changes nothing; a poll every interval (`review-poll`, a request the
work queue delays) looks at each waiting run with conditional requests as the fallback; a revision run that ends hands
the pull request back. Each asks for a look at the run (`ReviewState.want_look`) and enqueues the
run's one request (`agentrun <namespace>/<name>`), so a run's review never interleaves with its
own reconcile. `reconcile_review`, run after it, observes the forge, asks `core.reviewloop` what
the state means and applies its plan: merged → Succeeded, closed → Rejected, changes requested by
a writer → a revision AgentRun on the same branch and pull request (deterministic name, so a
repeated decision creates it once), up to maxRevisions; autoMerge merges when checks pass.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal, Protocol

from pydantic import ValidationError

from atomesh.api.agentrun import TERMINAL_PHASES, AgentRun, AgentRunStatus
from atomesh.controller.agent import request_rollup
from atomesh.controller.agentrun import AGENT_RUN
from atomesh.controller.apply import apply
from atomesh.controller.context import OperatorContext
from atomesh.controller.ingress import Delivery
from atomesh.controller.memory import propose_compaction
from atomesh.core.reviewloop import (
    ENDED_WITHOUT_PUBLISHING,
    WRITE_PERMISSIONS,
    PullObservation,
    ReviewItem,
    RevisionObservation,
    auto_merged,
    decide_review,
    review_plan,
)
from atomesh.core.reviewrecord import review_wait
from atomesh.forge.github_requests import Conditional
from atomesh.forge.protocol import PullRequestRef, ReviewComment
from atomesh.forge.webhook import CommentEvent, WebhookEvent, parse_request
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/github"
REVIEW_POLL = "review-poll"
PERMISSION_TTL = 300.0
# A review or comment does not always change the pull request itself (its updated_at has whole
# seconds), so a 304 is trusted for this many polls in a row, then the run looks anyway.
FULL_LOOK_EVERY = 5


class ReviewForge(Protocol):
    """What the review loop needs from a forge (GitHubForge implements it)."""

    def get_pull_request(self, repo: str, number: int) -> PullRequestRef: ...

    def get_pull_request_if_changed(
        self, repo: str, number: int, etag: str | None
    ) -> tuple[PullRequestRef | None, str | None]: ...

    def list_reviews(self, repo: str, number: int) -> list[ReviewComment]: ...

    def permission(self, repo: str, user: str) -> str: ...

    def team_membership(self, org: str, team_slug: str, user: str) -> str | None:
        """active or pending, None for no member (event triggers' `authorization.teams`)."""
        ...

    def repository_events(self, repo: str, etag: str | None, page: int = 1) -> Conditional:
        """A page of the repository events API (event triggers' polling fallback)."""
        ...

    def branch_head(self, repo: str, branch: str) -> str: ...

    def delete_ref(self, repo: str, ref: str) -> bool: ...

    def refs_under(self, repo: str, prefix: str) -> list[str]: ...

    def folder_bytes(self, repo: str, ref: str, path: str) -> int: ...

    def comment(self, repo: str, number: int, body: str) -> None: ...

    def merge(self, repo: str, number: int, method: Literal["merge", "squash", "rebase"] = "merge") -> str: ...

    def close_pull_request(self, repo: str, number: int) -> PullRequestRef: ...


class ReviewState:
    """In-memory caches of one operator: ETags per run, writers per repo, and
    which runs wait on which pull request (rebuilt from watch events after a restart)."""

    def __init__(self, forge: ReviewForge, clock: Callable[[], float] = time.monotonic) -> None:
        self.forge = forge
        self._clock = clock
        self._lock = threading.Lock()
        self._etags: dict[tuple[str, str], str] = {}
        self._permissions: dict[tuple[str, str], tuple[float, bool]] = {}
        self._waiting: dict[tuple[str, int], set[tuple[str, str]]] = {}
        self._pull_of: dict[tuple[str, str], tuple[str, int]] = {}  # the inverse of `_waiting`
        self._wanted: dict[tuple[str, str], bool] = {}
        self._unchanged: dict[tuple[str, str], int] = {}

    def want_look(self, namespace: str, name: str, *, full: bool) -> None:
        """Ask for a look at the run's pull request at its next reconcile; `full` skips the ETag."""
        with self._lock:
            key = (namespace, name)
            self._wanted[key] = self._wanted.get(key, False) or full

    def take_look(self, namespace: str, name: str) -> bool | None:
        """The look asked for (True: in full), now taken; None when none was asked for."""
        with self._lock:
            return self._wanted.pop((namespace, name), None)

    def can_write(self, repo: str, user: str, *, fresh: bool = False) -> bool:
        """Whether `user` may write to `repo`: asked of the forge when `fresh` (a permission that
        decides something), else cached for PERMISSION_TTL seconds."""
        key = (repo, user)
        with self._lock:
            cached = self._permissions.get(key)
        if cached and not fresh and self._clock() - cached[0] < PERMISSION_TTL:
            return cached[1]
        allowed = self.forge.permission(repo, user) in WRITE_PERMISSIONS
        with self._lock:
            self._permissions[key] = (self._clock(), allowed)
        return allowed

    def track(self, namespace: str, name: str, repo: str | None, number: int | None, waiting: bool) -> None:
        with self._lock:
            pull = self._pull_of.pop((namespace, name), None)
            if pull is not None:
                self._waiting[pull].discard((namespace, name))
                if not self._waiting[pull]:
                    del self._waiting[pull]
            if waiting and repo and number:
                self._waiting.setdefault((repo, number), set()).add((namespace, name))
                self._pull_of[(namespace, name)] = (repo, number)
            if not waiting:
                self._etags.pop((namespace, name), None)
                self._unchanged.pop((namespace, name), None)

    def awaits(self, namespace: str, name: str) -> bool:
        """Whether the run waits on a pull request (AwaitingReview, as last seen)."""
        with self._lock:
            return (namespace, name) in self._pull_of

    def runs_for(self, repo: str, number: int) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._waiting.get((repo, number), set()))

    def unchanged_poll(self, namespace: str, name: str) -> bool:
        """Count a 304; True (and start counting again) when it is time to look in full anyway."""
        with self._lock:
            count = self._unchanged.get((namespace, name), 0) + 1
            self._unchanged[(namespace, name)] = 0 if count >= FULL_LOOK_EVERY else count
            return count >= FULL_LOOK_EVERY

    def etag(self, namespace: str, name: str) -> str | None:
        with self._lock:
            return self._etags.get((namespace, name))

    def remember_etag(self, namespace: str, name: str, etag: str | None) -> None:
        with self._lock:
            if etag:
                self._etags[(namespace, name)] = etag


def _observation(pull: PullRequestRef) -> PullObservation:
    return PullObservation(
        open=pull.state == "open",
        merged=pull.merged,
        merged_by=pull.merged_by,
        merged_at=pull.merged_at,
        merge_commit=pull.merge_commit_sha,
        closed_by=pull.closed_by,
        closed_at=pull.closed_at,
        draft=pull.draft,
    )


def _items(state: ReviewState, repo: str, comments: list[ReviewComment]) -> list[ReviewItem]:
    """The reviews with their authors' permissions: a change request can start a revision, so its
    author's permission is asked afresh at each look (a writer demoted to read access a moment ago
    must not start one); comments only inform a revision and use the cache."""
    deciders = {item.author for item in comments if item.verdict == "CHANGES_REQUESTED"}
    fresh = {author: state.can_write(repo, author, fresh=True) for author in sorted(deciders)}
    return [
        ReviewItem(
            author=item.author,
            body=item.body,
            submitted_at=item.submitted_at,
            can_write=fresh[item.author] if item.author in fresh else state.can_write(repo, item.author),
            verdict=item.verdict,
            path=item.path,
            line=item.line,
        )
        for item in comments
    ]


def _observe_pull(
    state: ReviewState, namespace: str, name: str, repo: str, number: int, *, force: bool
) -> PullRequestRef | None:
    """The pull request, or None when a conditional request says it has not changed (and the
    run has not yet trusted too many 304s in a row)."""
    if force:
        return state.forge.get_pull_request(repo, number)
    pull, etag = state.forge.get_pull_request_if_changed(repo, number, state.etag(namespace, name))
    state.remember_etag(namespace, name, etag)
    if pull is None and state.unchanged_poll(namespace, name):
        return state.forge.get_pull_request(repo, number)
    return pull


def _observe_revision(ctx: OperatorContext, namespace: str, name: str) -> RevisionObservation:
    raw = ctx.kube.get(AGENT_RUNS, namespace, name)
    if raw is None:
        return RevisionObservation(name=name, exists=False)
    status = raw.get("status") or {}
    review = status.get("review") or {}
    return RevisionObservation(
        name=name,
        phase=str(status.get("phase") or "Pending"),
        reason=str(status.get("reason") or ""),
        message=str(status.get("message") or ""),
        revision=int(review.get("revision") or 0),
    )


def reconcile_review(ctx: OperatorContext, state: ReviewState, namespace: str, name: str) -> None:
    """Look at the run's pull request, when a look was asked for, and apply what it means."""
    full = state.take_look(namespace, name)
    if full is None:
        return
    try:
        _review(ctx, state, namespace, name, force=full)
    except BaseException:
        state.want_look(namespace, name, full=full)  # the requeue looks again
        raise


def _review(ctx: OperatorContext, state: ReviewState, namespace: str, name: str, *, force: bool) -> None:
    raw = ctx.kube.get(AGENT_RUNS, namespace, name)
    if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
        return
    try:
        run = AgentRun.model_validate(raw)
    except ValidationError:
        return  # the run's own reconcile reports an invalid spec
    status = run.status or AgentRunStatus()
    review = status.review
    if status.phase != "AwaitingReview" or review is None or not review.repo or not review.number:
        return
    if status.agent is None:
        return
    repo, number = review.repo, review.number
    revision = _observe_revision(ctx, namespace, review.revision_run) if review.revision_run else None
    # A revision that ends changes nothing on the pull request, so a 304 must not hide it.
    pull = _observe_pull(state, namespace, name, repo, number, force=force or review.revision_run is not None)
    if pull is None:
        return  # unchanged since the last poll (a 304 costs no rate limit)
    decision = decide_review(
        run,
        status.agent.spec,
        _observation(pull),
        _items(state, repo, state.forge.list_reviews(repo, number)),
        now=ctx.clock(),
        revision_run=revision,
    )
    if decision.action == "merge":
        decision = auto_merged(state.forge.merge(repo, number), ctx.now())
    generation = (raw.get("metadata") or {}).get("generation")
    plan = review_plan(run, status, decision, now=ctx.now(), generation=generation)
    if not apply(ctx, AGENT_RUNS, raw, plan, forge=state.forge):
        return
    new_status = AgentRunStatus.model_validate(plan.status or {})
    wait = review_wait(status, new_status)
    if wait is not None:
        ctx.metrics.review_decided(namespace, wait.decision, wait.seconds)
    new_phase = new_status.phase
    ctx.metrics.observe_run(namespace, name, new_phase)
    if new_phase in TERMINAL_PHASES:  # the run was AwaitingReview
        ctx.traces.run_finished(run.model_copy(update={"status": new_status}))
    if new_phase == "Succeeded":  # the run awaited review until now
        propose_compaction(ctx, state.forge, raw, run)  # a merged lesson may grow the memory past its bound
    if new_phase != status.phase:
        state.track(namespace, name, repo, number, waiting=False)
        request_rollup(ctx, namespace, run.spec.agent_ref.name)


class GitHubWebhooks:
    """The GitHub webhook source of the ingress: HMAC-verified deliveries about pull requests wake the
    runs that wait on them (a forced reconcile, skipping the ETag shortcut)."""

    name = "github"
    path = WEBHOOK_PATH

    def __init__(self, ctx: OperatorContext, state: ReviewState, secret: str) -> None:
        self._ctx = ctx
        self._state = state
        self._secret = secret

    def parse(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        event = parse_request(headers, body, self._secret)
        if event is None or (isinstance(event, CommentEvent) and not event.on_pull_request):
            return None
        return Delivery(event.delivery, event)

    def route(self, event: object) -> list[Callable[[], None]]:
        assert isinstance(event, WebhookEvent)
        runs = self._state.runs_for(event.repo, event.number)
        return [functools.partial(self._wake, namespace, name) for namespace, name in runs]

    def _wake(self, namespace: str, name: str) -> None:
        self._state.want_look(namespace, name, full=True)
        self._ctx.workers.enqueue(AGENT_RUN, namespace, name)


def register(ctx: OperatorContext, state: ReviewState) -> None:
    """The review loop's triggers; its reconcile runs within the run's (see `controller.agentrun`)."""
    interval = ctx.config.review_poll_interval_seconds

    def track_review(type: str | None, body: Body) -> None:
        meta, spec, status = body.get("metadata") or {}, body.get("spec") or {}, body.get("status") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
        review = status.get("review") or {}
        waiting = type != "DELETED" and status.get("phase") == "AwaitingReview"
        state.track(ns, name, review.get("repo"), review.get("number"), waiting)
        if waiting:  # polled from now on, until it stops waiting (a second enqueue keeps the first time)
            ctx.workers.enqueue(REVIEW_POLL, ns, name, after=interval)
        revised = spec.get("revisionOf")
        if revised and (type == "DELETED" or status.get("phase") in ENDED_WITHOUT_PUBLISHING):
            # The run it revises waits for it: hand the pull request back now, not at the next poll.
            state.want_look(ns, str(revised), full=False)
            ctx.workers.enqueue(AGENT_RUN, ns, str(revised))

    def poll_review(namespace: str, name: str) -> None:
        """The fallback to webhooks: a conditional look at a waiting run's pull request every interval."""
        if not state.awaits(namespace, name):
            return
        state.want_look(namespace, name, full=False)
        ctx.workers.enqueue(AGENT_RUN, namespace, name)
        ctx.workers.enqueue(REVIEW_POLL, namespace, name, after=interval)

    ctx.workers.register(REVIEW_POLL, poll_review)
    ctx.run_events.subscribe(track_review)
