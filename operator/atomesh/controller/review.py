"""The review loop: a run in AwaitingReview follows its pull request until a person decides.

GitHub webhooks (HMAC-verified, redeliveries ignored) make the loop immediate; a kopf timer
polls each waiting run with conditional requests as the fallback. Both end in
`reconcile_review`, which observes the forge, asks `core.reviewloop` what the state means,
and applies the decision: merged → Succeeded, closed → Rejected, changes requested by a
writer → a revision AgentRun on the same branch and pull request (deterministic name, so a
repeated decision creates it once), up to maxRevisions; autoMerge merges when checks pass.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import AgentRun, AgentRunStatus, ReviewStatus
from atomesh.api.common import dump
from atomesh.controller.agent import request_rollup, status_patch
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.ingress import Delivery
from atomesh.controller.reconciler import guarded
from atomesh.core.memory import build_memory_run
from atomesh.core.requeue import RetryPolicy
from atomesh.core.reviewloop import (
    ENDED_WITHOUT_PUBLISHING,
    WRITE_PERMISSIONS,
    PullObservation,
    ReviewDecision,
    ReviewItem,
    RevisionObservation,
    auto_merged,
    build_revision_run,
    decide_review,
    review_outcome,
)
from atomesh.core.runphase import with_conditions
from atomesh.forge.protocol import PullRequestRef, ReviewComment
from atomesh.forge.webhook import CommentEvent, WebhookEvent, parse_request
from atomesh.kube.resources import AGENT_RUNS

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhooks/github"
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

    def branch_head(self, repo: str, branch: str) -> str: ...

    def delete_ref(self, repo: str, ref: str) -> bool: ...

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
        self._kopf_context: contextvars.Context | None = None
        self._unchanged: dict[tuple[str, str], int] = {}

    def remember_kopf_context(self) -> None:
        """Called from a kopf handler: keeps its context (kopf's event poster lives in context variables)
        so reconciles started by a webhook, outside any handler, can still post Events."""
        if self._kopf_context is None:
            self._kopf_context = contextvars.copy_context()

    def in_kopf_context(self, fn: Callable[[], None]) -> None:
        context = self._kopf_context.copy() if self._kopf_context is not None else contextvars.copy_context()
        context.run(fn)

    def can_write(self, repo: str, user: str) -> bool:
        key = (repo, user)
        with self._lock:
            cached = self._permissions.get(key)
        if cached and self._clock() - cached[0] < PERMISSION_TTL:
            return cached[1]
        allowed = self.forge.permission(repo, user) in WRITE_PERMISSIONS
        with self._lock:
            self._permissions[key] = (self._clock(), allowed)
        return allowed

    def track(self, namespace: str, name: str, repo: str | None, number: int | None, waiting: bool) -> None:
        with self._lock:
            for runs in self._waiting.values():
                runs.discard((namespace, name))
            if waiting and repo and number:
                self._waiting.setdefault((repo, number), set()).add((namespace, name))
            if not waiting:
                self._etags.pop((namespace, name), None)
                self._unchanged.pop((namespace, name), None)

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
    return [
        ReviewItem(
            author=item.author,
            body=item.body,
            submitted_at=item.submitted_at,
            can_write=state.can_write(repo, item.author),
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


def reconcile_review(ctx: OperatorContext, state: ReviewState, namespace: str, name: str, *, force: bool) -> None:
    """Observe the run's pull request and apply what it means. `force` skips the ETag shortcut."""
    with ctx.locked(namespace, name):
        raw = ctx.kube.get(AGENT_RUNS, namespace, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            return
        try:
            run = AgentRun.model_validate(raw)
        except ValidationError:
            return  # the run's own handler reports an invalid spec
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
        _apply(ctx, state, run, raw, status, review, decision)


def _apply(
    ctx: OperatorContext,
    state: ReviewState,
    run: AgentRun,
    raw: dict[str, Any],
    status: AgentRunStatus,
    review: ReviewStatus,
    decision: ReviewDecision,
) -> None:
    repo, number = review.repo or "", review.number or 0
    namespace, name = run.metadata.namespace or "default", run.metadata.name
    if decision.action == "merge":
        decision = auto_merged(state.forge.merge(repo, number), ctx.now())
    revision_name = ""
    if decision.action == "reject" and decision.reason == c.MAX_REVISIONS_REACHED:
        state.forge.comment(repo, number, f"atomesh: {decision.message}. Closing this pull request.")
        state.forge.close_pull_request(repo, number)
    elif decision.action == "revise":
        revision = build_revision_run(run, decision)
        _, created = ctx.kube.create(AGENT_RUNS, revision)
        revision_name = revision["metadata"]["name"]
        if created:
            state.forge.comment(repo, number, f"atomesh: {decision.message} (AgentRun `{namespace}/{revision_name}`).")
    elif decision.action == "resume":
        state.forge.comment(repo, number, f"atomesh: {decision.message}.")
    elif decision.action == "succeed" and status.agent is not None:
        # A merged revision teaches the agent: its feedback is proposed as memory (one run per revision).
        lesson = build_memory_run(run, status.agent.spec)
        if lesson is not None and ctx.kube.create(AGENT_RUNS, lesson)[1]:
            where = f"AgentRun `{namespace}/{lesson['metadata']['name']}`"
            state.forge.comment(repo, number, f"atomesh: proposing this review's lesson as memory ({where}).")
    new = review_outcome(status, decision, ctx.now(), revision_name)
    generation = (raw.get("metadata") or {}).get("generation")
    new = with_conditions(new, generation, ctx.now())
    old_wire: dict[str, Any] = dict(raw.get("status") or {})
    patch = status_patch(old_wire, dump(new))
    if not patch:
        return
    ctx.kube.patch_status(AGENT_RUNS, namespace, name, patch)
    ctx.metrics.observe_run(namespace, name, new.phase)
    if new.phase != status.phase or new.reason != status.reason:
        post_event(raw, "Warning" if new.phase == "Rejected" else "Normal", new.reason or new.phase, new.message or "")
    if new.phase != status.phase:
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
        return [functools.partial(_reconcile_logged, self._ctx, self._state, ns, name) for ns, name in runs]


def _reconcile_logged(ctx: OperatorContext, state: ReviewState, namespace: str, name: str) -> None:
    step = functools.partial(reconcile_review, ctx, state, namespace, name, force=True)
    try:
        state.in_kopf_context(lambda: guarded(ctx, "review", f"{namespace}/{name}", step, retried=False))
    except Exception:  # a bug, not a failed call: the timer retries; a webhook never takes the endpoint down
        ctx.metrics.reconcile_error("review")
        log.exception("review of %s/%s failed; polling will retry", namespace, name)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext, state: ReviewState) -> None:
    # A failed poll is retried on the poll interval, not with a growing backoff: polling is the fallback.
    interval = ctx.config.review_poll_interval_seconds
    poll_retry = RetryPolicy(initial=interval, factor=1.0, maximum=interval)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    def track_review(
        *, type: str, namespace: str | None, name: str, status: kopf.Status, spec: kopf.Spec, **_: Any
    ) -> None:
        state.remember_kopf_context()
        review = status.get("review") or {}
        waiting = type != "DELETED" and status.get("phase") == "AwaitingReview"
        state.track(namespace or "default", name, review.get("repo"), review.get("number"), waiting)
        revised = spec.get("revisionOf")
        if revised and (type == "DELETED" or status.get("phase") in ENDED_WITHOUT_PUBLISHING):
            # The run it revises waits for it: hand the pull request back now, not at the next poll.
            ns = namespace or "default"
            step = functools.partial(reconcile_review, ctx, state, ns, str(revised), force=False)
            guarded(ctx, "review", f"{ns}/{revised}", step, retried=False)

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_AGENT_RUNS,
        field="status.phase",
        value="AwaitingReview",
        interval=ctx.config.review_poll_interval_seconds,
        registry=registry,
    )
    def poll_review(*, namespace: str | None, name: str, **_: Any) -> None:
        ns = namespace or "default"
        step = functools.partial(reconcile_review, ctx, state, ns, name, force=False)
        guarded(ctx, "review", f"{ns}/{name}", step, policy=poll_retry)
