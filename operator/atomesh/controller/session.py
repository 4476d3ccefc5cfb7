"""Sessions are collected with their run: when an AgentRun is deleted (by its Agent's historyLimit or by a
person), the session it stored at `refs/atomesh/sessions/<run>` of its workspace repository is deleted too.

Seen from the watch's DELETED event (a run carries no finalizer for this): a session whose deletion is
missed stays until the ref is removed by hand; it never blocks the run's deletion. The deleted run is no
longer there to be read through the Kubernetes port, so there is nothing to enqueue: the event's last
state names the repository, and the deletion is one `controller.reconciler.attempt` (its error kinds
logged and counted as the workers do), like a webhook delivery.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.controller.context import OperatorContext
from atomesh.controller.reconciler import attempt
from atomesh.controller.review import ReviewForge

SESSION = "session"


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


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext, forge: ReviewForge) -> None:
    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    def run_deleted(*, type: str, namespace: str | None, name: str, body: kopf.Body, **_: Any) -> None:
        if type == "DELETED":
            last = dict(body)
            attempt(ctx.metrics, SESSION, f"{namespace or 'default'}/{name}", lambda: collect_session(forge, last))
