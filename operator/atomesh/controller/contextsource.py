"""Context reconciliation: resolve the source to an immutable version, write status, and re-resolve the
Agents that select the Context when its version changes (a context update is a new Agent revision).

Thin: read (the Context, its ConfigMap or git ref) → `core.context.plan_context_status` → patch status
through the Kube port. Failures go through `guarded`: an unreachable ref or missing ConfigMap is retried,
an unsupported or oversized source waits for a new generation (Stalled). Sources are re-read every
`ref_poll_interval_seconds`: a branch or a ConfigMap changes without the Context changing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import AgentSpec
from atomesh.api.common import dump, redact_userinfo
from atomesh.api.context import Context, ContextStatus
from atomesh.controller.agent import reconcile_agent, status_patch
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.reconciler import guarded
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.context import SourceObservation, plan_context_status, selects
from atomesh.core.requeue import Transient
from atomesh.core.revision import describe_validation_error
from atomesh.forge.errors import ForgeError
from atomesh.forge.git import repo_url
from atomesh.forge.refs import FULL_SHA
from atomesh.kube.resources import AGENTS, CONFIGMAPS, CONTEXTS


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


def reconcile_context(ctx: OperatorContext, body: Mapping[str, Any]) -> None:
    meta = body.get("metadata") or {}
    namespace, name, generation = meta.get("namespace", ""), meta.get("name", ""), meta.get("generation")
    old_wire: dict[str, Any] = dict(body.get("status") or {})
    current = ContextStatus.model_validate(old_wire)
    try:
        context = Context.model_validate(dict(body))
    except ValidationError as exc:
        message = describe_validation_error(exc)
        conds = merge_conditions(
            current.conditions,
            [
                condition(c.READY, c.FALSE, c.INVALID_SPEC, message, generation),
                condition(c.STALLED, c.TRUE, c.INVALID_SPEC, message, generation),
            ],
            ctx.now(),
        )
        new = ContextStatus(observed_generation=generation, conditions=conds)
    else:
        observed = observe(ctx, context)
        new = plan_context_status(
            current, name=name, generation=generation, spec=context.spec, observed=observed, now=ctx.now()
        )
    patch = status_patch(old_wire, dump(new))
    if patch:
        ctx.kube.patch_status(CONTEXTS, namespace, name, patch)
        ready = find(new.conditions, c.READY)
        if ready is not None and ready != find(current.conditions, c.READY):
            post_event(body, "Normal" if ready.status == c.TRUE else "Warning", ready.reason, ready.message)
    if new.revision != current.revision or patch.get("conditions") is not None:
        refresh_agents(ctx, namespace, name, dict(meta.get("labels") or {}))
    ready = find(new.conditions, c.READY)
    if ready is not None and ready.status != c.TRUE and find(new.conditions, c.RECONCILING) is not None:
        raise Transient(ready.message)


def refresh_agents(ctx: OperatorContext, namespace: str, name: str, labels: dict[str, str]) -> None:
    """Re-resolve every Agent of the namespace that selects Context `name` or used it until now."""
    probe = Context.model_validate(
        {"metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": {"configMap": {"name": "-"}}}
    )
    for body in ctx.kube.list(AGENTS, namespace):
        try:
            spec = AgentSpec.model_validate(body.get("spec") or {})
        except ValidationError:
            continue
        pinned = ((body.get("status") or {}).get("contexts")) or []
        used = any(isinstance(version, Mapping) and version.get("name") == name for version in pinned)
        if spec.context is not None and (used or selects(spec.context, probe)):
            agent = f"{namespace}/{(body.get('metadata') or {}).get('name', '')}"
            guarded(ctx, "agent", agent, functools.partial(reconcile_agent, ctx, body), retried=False)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, field="spec", registry=registry)
    def context_changed(body: kopf.Body, retry: int, **_: Any) -> None:
        guarded(ctx, "context", _name_of(body), lambda: reconcile_context(ctx, body), retry=retry)

    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, field="metadata.labels", registry=registry)
    def context_relabelled(body: kopf.Body, **_: Any) -> None:
        """A label change moves the Context in or out of Agents' selectors (a canary rollout)."""
        meta = body.get("metadata") or {}
        guarded(
            ctx,
            "context",
            _name_of(body),
            lambda: refresh_agents(
                ctx, meta.get("namespace", ""), meta.get("name", ""), dict(meta.get("labels") or {})
            ),
            retried=False,
        )

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, registry=registry)
    def context_deleted(type: str, body: kopf.Body, **_: Any) -> None:
        """Agents that used a deleted Context stop being Ready until it is back. A watch event, not a
        deletion handler: those need a finalizer to be sure to run, and a Context needs none."""
        if type != "DELETED":
            return
        meta = body.get("metadata") or {}
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        labels = dict(meta.get("labels") or {})
        guarded(ctx, "context", _name_of(body), lambda: refresh_agents(ctx, namespace, name, labels), retried=False)

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_CONTEXTS,
        interval=ctx.config.ref_poll_interval_seconds,
        initial_delay=ctx.config.ref_poll_interval_seconds,
        registry=registry,
    )
    def context_source_poll(body: kopf.Body, **_: Any) -> None:
        """A branch moves or a ConfigMap is edited without the Context changing: re-read now and then."""
        guarded(ctx, "context", _name_of(body), lambda: reconcile_context(ctx, body), retried=False)


def _name_of(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
