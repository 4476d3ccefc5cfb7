"""Agent reconciliation: validate, resolve `source.ref`, record revision and conditions; and the
Agent's rollup of its runs (counters, lastRun, cost), a follow-up coalesced over FOLLOW_UP_DELAY.

A broken Agent never crashes the operator: an invalid spec becomes Stalled with the field and
the fix; an unreachable source becomes ResolvedRefs=False and raises Transient (retried with backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.agentrun import AgentRun
from atomesh.api.budget import AgentBudget
from atomesh.api.common import redact_userinfo
from atomesh.api.context import Context
from atomesh.controller import virtualkey
from atomesh.controller.apply import apply
from atomesh.controller.context import OperatorContext
from atomesh.core.agentplan import plan_agent
from atomesh.core.context import ContextSelection, select_contexts
from atomesh.core.gatewaykey import with_virtual_key
from atomesh.core.revision import RefResolution, describe_validation_error
from atomesh.core.rollup import plan_rollup
from atomesh.core.validation import check_timezone, validate_agent_spec
from atomesh.forge.errors import ForgeError
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import AGENT_RUNS, AGENTS, CONTEXTS, NAMESPACES

log = logging.getLogger(__name__)
AGENT, ROLLUP = "agent", "agent-rollup"
RUNS_BY_AGENT = "agent"  # the watch cache's index of AgentRuns by the Agent they name (`agent_of`)
# A burst of runs of one agent changes phase hundreds of times a minute: its rollup (list its runs,
# patch its status) runs at most once per this many seconds, with the runs as they are then.
FOLLOW_UP_DELAY = 0.5


def resolve(ctx: OperatorContext, agent: Agent) -> RefResolution | None:
    source = agent.spec.source
    if source is None:
        return None
    try:
        return RefResolution(commit=ctx.resolver(source.repo, source.ref))
    except ForgeError as exc:
        return RefResolution(error=exc.message)
    except OSError as exc:  # git itself could not run
        return RefResolution(error=redact_userinfo(str(exc)))


def resolve_workspace(ctx: OperatorContext, spec: AgentSpec) -> RefResolution | None:
    """The workspace's base branch: through the forge's API for owner/name (when the operator has forge
    credentials), with git for a URL; None when it cannot be checked."""
    workspace = spec.workspace
    try:
        if "://" in workspace.repo or workspace.repo.startswith(("/", "git@", "file:")):
            return RefResolution(commit=ctx.resolver(workspace.repo, workspace.base_branch))
        if ctx.branch_head is None:
            return None
        return RefResolution(commit=ctx.branch_head(workspace.repo, workspace.base_branch))
    except ForgeError as exc:
        return RefResolution(error=exc.message)
    except OSError as exc:  # git itself could not run
        return RefResolution(error=redact_userinfo(str(exc)))


def _shared_context(ctx: OperatorContext, namespace: str, name: str) -> Context | str | None:
    """Another namespace's Context: the object, None when missing, or why it cannot be read."""
    try:
        item = ctx.kube.get(CONTEXTS, namespace, name)
    except KubeError as exc:
        return f"cannot be read by the operator ({exc.status} {exc.reason})"
    if item is None:
        return None
    try:
        return Context.model_validate(item)
    except ValidationError:
        return "is invalid (its own status says why)"


def _namespace_labels(ctx: OperatorContext, namespace: str) -> dict[str, str] | None:
    """The labels of `namespace` (None when the operator cannot read it: no Selector then matches)."""
    try:
        item = ctx.kube.get(NAMESPACES, "", namespace)
    except KubeError:
        return None
    return dict(((item or {}).get("metadata") or {}).get("labels") or {}) if item is not None else None


def resolve_contexts(ctx: OperatorContext, namespace: str, spec: AgentSpec) -> ContextSelection | None:
    """The pinned versions of the Contexts `spec.context` selects (None: it selects none), including
    other namespaces' Contexts in `spec.context.refs` that allow this namespace."""
    if spec.context is None:
        return None
    contexts = []
    for item in ctx.kube.list(CONTEXTS, namespace):
        try:
            contexts.append(Context.model_validate(item))
        except ValidationError:
            continue  # its own status says why; selecting it by name reports it as not Ready
    shared = {
        (ref.namespace, ref.name): _shared_context(ctx, ref.namespace, ref.name)
        for ref in spec.context.refs
        if ref.namespace != namespace
    }
    by_selector = any(
        isinstance(found, Context)
        and found.spec.allowed_namespaces is not None
        and found.spec.allowed_namespaces.from_ == "Selector"
        for found in shared.values()
    )
    labels = _namespace_labels(ctx, namespace) if by_selector else None
    return select_contexts(spec.context, contexts, namespace=namespace, shared=shared, namespace_labels=labels)


def reconcile_agent(ctx: OperatorContext, namespace: str, name: str) -> None:
    """Validate, resolve, plan the status (core.agentplan) and apply it."""
    body = ctx.kube.get(AGENTS, namespace, name)
    if body is None:
        return
    spec, invalid, resolution, workspace, contexts = None, None, None, None, None
    try:
        agent = Agent.model_validate(body)
    except ValidationError as exc:
        invalid = describe_validation_error(exc)
    else:
        errors = validate_agent_spec(agent.spec, ctx.config.allowed_repository_hosts())
        if errors:
            invalid = "; ".join(f"{error.path}: {error.message}" for error in errors)
        else:
            spec = agent.spec
            resolution = resolve(ctx, agent)
            if resolution is None or resolution.error is None:
                workspace = resolve_workspace(ctx, spec)
            contexts = resolve_contexts(ctx, namespace, spec)
    priced = spec is None or spec.harness.price is not None or ctx.prices(spec.harness.model) is not None
    plan = plan_agent(
        body.get("status") or {},
        generation=(body.get("metadata") or {}).get("generation"),
        spec=spec,
        invalid=invalid,
        resolution=resolution,
        workspace=workspace,
        contexts=contexts,
        priced=priced,
        now=ctx.now(),
    )
    if spec is not None:
        outcome = virtualkey.settle_virtual_key(ctx, body, spec)
        plan = with_virtual_key(plan, outcome, generation=(body.get("metadata") or {}).get("generation"), now=ctx.now())
    if invalid:
        log.warning("Agent %s/%s is invalid: %s", namespace, name, invalid)
    # A restarted operator exports the last rollup at once, not only after the Agent's next run changes.
    export_rollup(ctx, namespace, name, body.get("status") or {})
    apply(ctx, AGENTS, body, plan)


def request_rollup(ctx: OperatorContext, namespace: str, agent: str) -> None:
    """Refresh the agent's rollup soon, once for a burst of run changes."""
    ctx.workers.enqueue(ROLLUP, namespace, agent, after=FOLLOW_UP_DELAY)


def agent_of(run: Mapping[str, Any]) -> str | None:
    """The Agent an AgentRun manifest names (manual runs carry no label, so this reads the spec)."""
    return ((run.get("spec") or {}).get("agentRef") or {}).get("name")


def runs_of(ctx: OperatorContext, namespace: str, agent: str) -> list[Body]:
    """The AgentRun manifests in `namespace` whose agentRef names `agent` (read-only): from the watch
    cache's index when it has one, not a scan of every run of the namespace."""
    if isinstance(ctx.kube, CachedKube):
        return ctx.kube.indexed(AGENT_RUNS, namespace, RUNS_BY_AGENT, agent)
    return [item for item in ctx.kube.list(AGENT_RUNS, namespace) if agent_of(item) == agent]


def _budget_of(body: Body) -> AgentBudget | None:
    """The Agent's spec.budget when it can be counted (an invalid spec is reported by the Agent's reconcile)."""
    try:
        budget = AgentSpec.model_validate(body.get("spec") or {}).budget
    except ValidationError:
        return None
    return budget if budget is not None and not check_timezone(budget.timezone, ()) else None


def refresh_rollup(ctx: OperatorContext, namespace: str, agent: str) -> None:
    """Counters, lastRun and cost of the agent from its runs; written only when they changed."""
    body = ctx.kube.get(AGENTS, namespace, agent)
    if body is None:
        return
    runs = []
    for item in runs_of(ctx, namespace, agent):
        try:
            runs.append(AgentRun.model_validate(item))
        except ValidationError:
            continue
    plan = plan_rollup(body.get("status") or {}, runs, _budget_of(body), ctx.clock())
    export_rollup(ctx, namespace, agent, plan.status or {})
    apply(ctx, AGENTS, body, plan)


def export_rollup(ctx: OperatorContext, namespace: str, agent: str, status: Mapping[str, Any]) -> None:
    """The rollup's figures that are also gauges: cost per accepted artifact and acceptance ratio."""
    ctx.metrics.cost_per_accepted(namespace, agent, (status.get("artifactCost") or {}).get("costPerAcceptedUSD"))
    ctx.metrics.acceptance_rate(namespace, agent, (status.get("reviews") or {}).get("acceptanceRate"))


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    ctx.workers.register(AGENT, lambda namespace, name: reconcile_agent(ctx, namespace, name))
    ctx.workers.register(ROLLUP, lambda namespace, name: refresh_rollup(ctx, namespace, name))
    virtualkey.register(ctx)

    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    async def agent_resumed(*, namespace: str | None, name: str, **_: Any) -> None:
        # Seen in the initial list: waits behind new work (a restart resyncs every object).
        ctx.workers.enqueue(AGENT, namespace or "default", name, resync=True)

    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_AGENTS, field="spec", registry=registry)
    async def agent_changed(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(AGENT, namespace or "default", name)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    async def agent_event(*, type: str | None, body: kopf.Body, **_: Any) -> None:
        # No finalizer on Agents: their virtual key is deleted when the deletion is seen (best effort).
        if type == "DELETED":
            virtualkey.on_deleted(ctx, body)

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_AGENTS,
        interval=ctx.config.ref_poll_interval_seconds,
        initial_delay=ctx.config.ref_poll_interval_seconds,
        when=lambda spec, **_: bool(spec.get("source")),
        registry=registry,
    )
    async def agent_source_poll(*, namespace: str | None, name: str, **_: Any) -> None:
        """A branch moves without the Agent changing: re-resolve now and then (writes only on change)."""
        ctx.workers.enqueue(AGENT, namespace or "default", name)
