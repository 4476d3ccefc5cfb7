"""Sessions are collected with their run: when an AgentRun is deleted (by its Agent's historyLimit or by a
person), the session it stored at `refs/atomesh/sessions/<run>` of its workspace repository is deleted too.

Seen from the watch's DELETED event (a run carries no finalizer for this): it never blocks the run's
deletion. The deleted run is no longer there to be read through the Kubernetes port, so the event's
last state, which names the repository, is kept in memory for the `session` request until its
deletion succeeds.

A deletion missed (the operator was down when the run was deleted) is caught by a sweep
(`core.sessiongc`): at start and every SWEEP_INTERVAL seconds, the session refs of the workspace
repositories are listed through the forge and those whose run no longer exists are deleted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.controller.context import OperatorContext
from atomesh.controller.review import ReviewForge
from atomesh.core.sessiongc import MAX_DELETIONS, orphaned_sessions, session_repositories
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS

log = logging.getLogger(__name__)

SESSION = "session"
SWEEP = "session-sweep"
SWEEP_INTERVAL = 3600.0
_SWEEP_KEY = ("", "sessions")  # one sweep request: the queue folds repeats into one


def session_ref(run: str) -> str:
    return f"{k.SESSION_REF_PREFIX}/{run}"


def _workspace_slug(status: Mapping[str, Any]) -> str | None:
    """owner/name of the run's workspace, for a run that opened no pull request (a Paused one)."""
    repo = str(((((status.get("agent") or {}).get("spec") or {}).get("workspace")) or {}).get("repo") or "")
    return repo if repo.count("/") == 1 and ":" not in repo else None


def collect_session(forge: ReviewForge, body: Mapping[str, Any]) -> None:
    meta, status = body.get("metadata") or {}, body.get("status") or {}
    repo, name = (status.get("review") or {}).get("repo") or _workspace_slug(status), meta.get("name")
    if repo and name:
        forge.delete_ref(repo, session_ref(name))


def sweep_sessions(ctx: OperatorContext, forge: ReviewForge) -> list[str]:
    """Delete the session refs whose run no longer exists (in every namespace); the refs deleted."""
    agents, runs = ctx.kube.list(AGENTS, ""), ctx.kube.list(AGENT_RUNS, "")
    deleted: list[str] = []
    for repo in session_repositories(agents, runs):
        refs = forge.refs_under(repo, k.SESSION_REF_PREFIX + "/")
        if not refs:
            continue
        # Read after the refs: a run created meanwhile is seen, so its fresh session is kept.
        live = {(run.get("metadata") or {}).get("name", "") for run in ctx.kube.list(AGENT_RUNS, "")}
        for ref in orphaned_sessions(refs, live)[: MAX_DELETIONS - len(deleted)]:
            if forge.delete_ref(repo, ref):
                deleted.append(f"{repo}:{ref}")
        if len(deleted) >= MAX_DELETIONS:
            break
    if deleted:
        log.info("deleted %d session ref(s) of runs that no longer exist", len(deleted))
    return deleted


def register(
    registry: kopf.OperatorRegistry, ctx: OperatorContext, forge: ReviewForge, namespaces: Sequence[str] = ()
) -> None:
    if not namespaces:  # limited to some namespaces, another operator's runs would look deleted

        def sweep(_namespace: str, _name: str) -> None:
            try:
                sweep_sessions(ctx, forge)
            finally:
                ctx.workers.enqueue(SWEEP, *_SWEEP_KEY, after=SWEEP_INTERVAL)

        ctx.workers.register(SWEEP, sweep)

        @kopf.on.startup(registry=registry)
        def start_sweeping(**_: Any) -> None:
            ctx.workers.enqueue(SWEEP, *_SWEEP_KEY)

    deleted: dict[tuple[str, str], Body] = {}  # the last state of runs whose session is still to collect
    lock = threading.Lock()

    def run_deleted(type: str | None, body: Body) -> None:
        if type == "DELETED":
            meta = body.get("metadata") or {}
            key = (str(meta.get("namespace") or "default"), str(meta.get("name")))
            with lock:
                deleted[key] = body
            ctx.workers.enqueue(SESSION, *key)

    def collect(namespace: str, name: str) -> None:
        with lock:
            last = deleted.get((namespace, name))
        if last is not None:
            collect_session(forge, last)  # a ForgeError retries it with backoff; the sweep is the last resort
            with lock:
                deleted.pop((namespace, name), None)

    ctx.workers.register(SESSION, collect)
    ctx.run_events.subscribe(run_deleted)
