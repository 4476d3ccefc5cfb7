"""The one apply step: performs any `core.plan.Plan` about one object through the ports.

In order: the actions (creates are create-or-get, so AlreadyExists is done; patches and deletes of
objects already gone are no-ops), the status (only its difference, and only when there is one),
the events, then the plan's requeue is raised for the work queue to act on.

`ErrorAnswers` is how a controller's unexpected reconcile errors are answered on its objects (the
workers call it once per object and error): a plan of `core.reconcileerror`, applied here as well.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Protocol

import kopf

from atomesh.controller.context import OperatorContext
from atomesh.core.plan import ClosePullRequest, Comment, Create, Delete, Event, Patch, Plan, status_patch
from atomesh.core.reconcileerror import plan_reconcile_error, plan_recovered
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS, CONFIGMAPS, MESHES, PODS, Resource

RESOURCES: dict[str, Resource] = {
    resource.kind: resource for resource in (AGENTS, AGENT_RUNS, MESHES, PODS, CONFIGMAPS)
}


class PullRequests(Protocol):
    """The forge calls a plan may ask for (the review loop's forge port has them)."""

    def comment(self, repo: str, number: int, body: str) -> None: ...

    def close_pull_request(self, repo: str, number: int) -> Any: ...


def apply(
    ctx: OperatorContext, resource: Resource, body: Body, plan: Plan, *, forge: PullRequests | None = None
) -> bool:
    """Perform `plan` for the object `body` (as read) of `resource`; True when its status was written."""
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    for action in plan.actions:
        if isinstance(action, Create):
            manifest = copy.deepcopy(dict(action.manifest))
            manifest["metadata"] = {
                **manifest["metadata"],
                "namespace": manifest["metadata"].get("namespace") or namespace,
            }
            if action.owned:
                kopf.adopt(manifest, owner=body)  # type: ignore[arg-type]
            _, created = ctx.kube.create(RESOURCES[action.kind], manifest)
            if created:
                for then in action.on_created:
                    _say(ctx, body, then, forge)
        elif isinstance(action, Patch):
            patched = ctx.kube.patch(RESOURCES[action.kind], namespace, action.name, dict(action.patch))
            if patched is not None and action.event is not None:
                _say(ctx, body, action.event, forge)
        elif isinstance(action, Delete):
            ctx.kube.delete(RESOURCES[action.kind], namespace, action.name)
        else:
            _say(ctx, body, action, forge)
    written = False
    if plan.status is not None:
        patch = status_patch(dict(body.get("status") or {}), plan.status)
        if patch:
            ctx.kube.patch_status(resource, namespace, name, patch)
            written = True
    for event in plan.events:
        ctx.post_event(body, event.type, event.reason, event.message)
    if plan.requeue is not None:
        raise plan.requeue
    return written


def _say(ctx: OperatorContext, body: Mapping[str, Any], what: Event | Comment | ClosePullRequest, forge: Any) -> None:
    if isinstance(what, Event):
        ctx.post_event(body, what.type, what.reason, what.message)
        return
    if forge is None:
        raise RuntimeError(f"a plan asked for {type(what).__name__} but this controller has no forge")
    if isinstance(what, Comment):
        forge.comment(what.repo, what.number, what.body)
    else:
        forge.close_pull_request(what.repo, what.number)


class ErrorAnswers:
    """Answers unexpected reconcile errors on objects of `resource` (`controller.reconciler.ErrorAnswer`)."""

    def __init__(self, ctx: OperatorContext, resource: Resource) -> None:
        self.ctx, self.resource = ctx, resource

    def failed(self, namespace: str, name: str, error: Exception) -> None:
        body = self.ctx.kube.get(self.resource, namespace, name)
        if body is None:
            return
        generation = (body.get("metadata") or {}).get("generation")
        apply(
            self.ctx,
            self.resource,
            body,
            plan_reconcile_error(body.get("status") or {}, error, generation, self.ctx.now()),
        )

    def recovered(self, namespace: str, name: str) -> None:
        body = self.ctx.kube.get(self.resource, namespace, name)
        if body is not None:
            apply(self.ctx, self.resource, body, plan_recovered(body.get("status") or {}))
