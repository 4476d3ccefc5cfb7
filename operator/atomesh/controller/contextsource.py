"""Context reconciliation: resolve the source to an immutable version, write status, and re-resolve the
Agents that select the Context when what they pinned is out of date (a context update is a new Agent
revision).

Follows the reconcile contract (see the package docstring): the handlers enqueue the Context; its
reconcile reads it, its source (git ref or ConfigMap) and the namespace's Contexts and Agents through the
ports, plans in `core.contextplan`, applies with `controller.apply.apply`, and enqueues the Agents whose
pinned contexts changed. Sources are re-read every `ref_poll_interval_seconds`: a branch or a ConfigMap
changes without the Context changing.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.common import redact_userinfo
from atomesh.api.context import Context
from atomesh.controller.agent import AGENT
from atomesh.controller.apply import ErrorAnswers, apply
from atomesh.controller.context import OperatorContext
from atomesh.core.context import SourceObservation
from atomesh.core.contextplan import agents_referencing, agents_to_refresh, plan_context, shared_changed
from atomesh.core.plan import Plan
from atomesh.core.revision import describe_validation_error
from atomesh.forge.errors import ForgeError
from atomesh.forge.git import repo_url
from atomesh.forge.refs import FULL_SHA
from atomesh.kube.client import KubeError
from atomesh.kube.resources import AGENTS, CONFIGMAPS, CONTEXTS

CONTEXT = "context"


def observe(ctx: OperatorContext, context: Context) -> SourceObservation:
    """Read the Context's source: resolve the git ref, or get the ConfigMap (None when missing)."""
    spec, namespace = context.spec, context.metadata.namespace or ""
    if spec.git is not None:
        repo, ref = spec.git.repo, spec.git.ref
        on_forge = "://" not in repo and not repo.startswith(("/", "git@", "file:"))
        try:
            if on_forge and ctx.branch_head is not None and not FULL_SHA.match(ref):
                # owner/name: through the forge's API with the operator's credentials (a private repository)
                return SourceObservation(commit=ctx.branch_head(repo, ref))
            return SourceObservation(commit=ctx.resolver(repo_url(repo, ctx.config.forge_git_url), ref))
        except ForgeError as exc:
            return SourceObservation(error=exc.message)
        except OSError as exc:  # git itself could not run
            return SourceObservation(error=redact_userinfo(str(exc)))
    if spec.config_map is not None:
        return SourceObservation(configmap=ctx.kube.get(CONFIGMAPS, namespace, spec.config_map.name))
    return SourceObservation()


def reconcile_context(ctx: OperatorContext, namespace: str, name: str) -> None:
    """Plan and apply the Context's status (nothing when it is gone), then wake the Agents it concerns."""
    body = ctx.kube.get(CONTEXTS, namespace, name)
    plan = Plan()
    if body is not None:
        context, invalid, observed = None, None, SourceObservation()
        try:
            context = Context.model_validate(body)
        except ValidationError as exc:
            invalid = describe_validation_error(exc)
        else:
            observed = observe(ctx, context)
        plan = plan_context(
            body.get("status") or {},
            name=name,
            generation=(body.get("metadata") or {}).get("generation"),
            context=context,
            invalid=invalid,
            observed=observed,
            now=ctx.now(),
        )
    try:
        if body is not None:
            apply(ctx, CONTEXTS, body, dataclasses.replace(plan, requeue=None))
    finally:
        contexts = []
        for item in ctx.kube.list(CONTEXTS, namespace):
            meta = item.get("metadata") or {}
            if meta.get("name") == name and plan.status is not None:
                item = {**item, "status": dict(plan.status)}  # as written (the list may predate the write)
            try:
                contexts.append(Context.model_validate(item))
            except ValidationError:
                continue
        for agent in agents_to_refresh(name, contexts, ctx.kube.list(AGENTS, namespace)):
            ctx.workers.enqueue(AGENT, namespace, agent)
        if shared_changed(body, plan):
            wake_shared(ctx, namespace, name)
    if plan.requeue is not None:
        raise plan.requeue


def wake_shared(ctx: OperatorContext, namespace: str, name: str) -> None:
    """Reconcile the Agents of other namespaces that reference the Context (cluster-wide operators only:
    a namespaced one cannot list Agents across namespaces, and watches none beyond its own)."""
    try:
        agents = ctx.kube.list(AGENTS, "")
    except KubeError as exc:
        if exc.status != 403:
            raise
        return
    for agent_namespace, agent in agents_referencing(namespace, name, agents):
        ctx.workers.enqueue(AGENT, agent_namespace, agent)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    ctx.workers.register(CONTEXT, lambda namespace, name: reconcile_context(ctx, namespace, name))
    ctx.workers.answer_errors(CONTEXT, ErrorAnswers(ctx, CONTEXTS))

    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, field="spec", registry=registry)
    def context_changed(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(CONTEXT, namespace or "default", name)

    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, field="metadata.labels", registry=registry)
    def context_relabelled(*, namespace: str | None, name: str, **_: Any) -> None:
        """A label change moves the Context in or out of Agents' selectors (a canary rollout)."""
        ctx.workers.enqueue(CONTEXT, namespace or "default", name)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    def context_deleted(*, type: str, namespace: str | None, name: str, **_: Any) -> None:
        """Agents that used a deleted Context stop being Ready until it is back. A watch event, not a
        deletion handler: those need a finalizer to be sure to run, and a Context needs none."""
        if type == "DELETED":
            ctx.workers.enqueue(CONTEXT, namespace or "default", name)

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_CONTEXTS,
        interval=ctx.config.ref_poll_interval_seconds,
        initial_delay=ctx.config.ref_poll_interval_seconds,
        registry=registry,
    )
    def context_source_poll(*, namespace: str | None, name: str, **_: Any) -> None:
        """A branch moves or a ConfigMap is edited without the Context changing: re-read now and then."""
        ctx.workers.enqueue(CONTEXT, namespace or "default", name)
