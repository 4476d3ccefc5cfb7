"""AgentRun reconciliation: admit, snapshot the agent, create the run's ConfigMap and runner pod,
and map the pod's progress into the run's status.

Both the run's own handler and its pod's event handler call `reconcile_run`, which re-reads the
run and the pod and decides in `atomesh.core`; a per-run lock keeps the two from interleaving.
Every step is idempotent (deterministic names, create-or-get, write-only-on-change), so an
operator killed at any point picks up where it left off without duplicate pods.
Runs in AwaitingReview are the review loop's: this module only handles their cancellation.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, TERMINAL_PHASES, AgentRun, AgentRunStatus
from atomesh.api.common import dump
from atomesh.controller.agent import agent_of, request_rollup, runs_of, status_patch
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.reconciler import guarded
from atomesh.core.requeue import Waiting
from atomesh.core.revision import describe_validation_error
from atomesh.core.runphase import observe_pod, plan_from_pod, with_conditions
from atomesh.core.runstart import StartPlan, plan_start
from atomesh.core.schedule import RunInfo, parse_rfc3339, prune_history
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS, CONFIGMAPS, PODS

log = logging.getLogger(__name__)
AGENT_WAIT_DELAY = 10.0
MESH_RUNS = {k.LABEL_MESH: kopf.PRESENT}


def _load_agent(body: Body | None) -> Agent | None:
    if body is None:
        return None
    try:
        return Agent.model_validate(body)
    except ValidationError:
        return None  # admission reports it as not Ready; the Agent's own status says why


def _start(ctx: OperatorContext, run: AgentRun, raw: Body, status: AgentRunStatus) -> tuple[StartPlan, Body | None]:
    """Read what the start depends on, decide in core, create the ConfigMap and pod it asks for."""
    namespace = run.metadata.namespace or "default"
    agent = None if run.spec.cancel else _load_agent(ctx.kube.get(AGENTS, namespace, run.spec.agent_ref.name))
    previous = None
    if run.spec.revision_of and not run.spec.cancel:
        previous_body = ctx.kube.get(AGENT_RUNS, namespace, run.spec.revision_of)
        previous = AgentRun.model_validate(previous_body) if previous_body else None
    plan = plan_start(run, status, agent=agent, previous=previous, config=ctx.config, now=ctx.now())
    if not plan.objects:
        return plan, None
    kopf.adopt(list(plan.objects), owner=raw)  # type: ignore[arg-type]
    created_pod: Body | None = None
    for obj in plan.objects:
        stored, created = ctx.kube.create(PODS if obj is plan.pod else CONFIGMAPS, obj)
        if obj is plan.pod:
            created_pod = stored
            if created:
                post_event(raw, "Normal", c.POD_CREATED, plan.created_event)
    return plan, created_pod


def _finished(ctx: OperatorContext, run: AgentRun, old: AgentRunStatus, new: AgentRunStatus) -> None:
    """Metrics once per run, when its pod's work ends."""
    if old.phase not in ACTIVE_PHASES or new.phase in ACTIVE_PHASES:
        return
    start, end = parse_rfc3339(new.start_time), parse_rfc3339(ctx.now())
    seconds = (end - start).total_seconds() if start and end else None
    usage = new.usage
    tokens = (usage.input_tokens + usage.output_tokens) if usage else 0
    ctx.metrics.run_finished(run.spec.agent_ref.name, seconds, usage.cost_usd if usage else 0.0, tokens)


def _run_info(item: Body) -> RunInfo:
    status = item.get("status") or {}
    return RunInfo(
        name=item["metadata"]["name"],
        phase=status.get("phase") or "Pending",
        created=item["metadata"].get("creationTimestamp") or "",
        completed=status.get("completionTime") or "",
        cancel=bool((item.get("spec") or {}).get("cancel")),
        execution=(item["metadata"].get("labels") or {}).get(k.LABEL_MESH_EXECUTION) or "",
    )


def run_infos(ctx: OperatorContext, namespace: str, agent: str) -> list[RunInfo]:
    return [_run_info(item) for item in runs_of(ctx, namespace, agent)]


def prune(ctx: OperatorContext, namespace: str, agent_name: str) -> None:
    """Delete finished runs of the agent beyond its historyLimit (their pods and ConfigMaps go with them);
    a mesh execution's runs only together, once all of them are finished (see `prune_history`)."""
    agent = _load_agent(ctx.kube.get(AGENTS, namespace, agent_name))
    if agent is None:
        return
    own: list[RunInfo] = []
    executions: dict[str, list[RunInfo]] = {}
    for item in ctx.kube.list(AGENT_RUNS, namespace):
        info = _run_info(item)
        if agent_of(item) == agent_name:
            own.append(info)
        if info.execution:
            executions.setdefault(info.execution, []).append(info)
    for name in prune_history(own, agent.spec.history_limit, executions):
        ctx.kube.delete(AGENT_RUNS, namespace, name)


def reconcile_run(ctx: OperatorContext, namespace: str, name: str) -> None:
    """Bring the run's status in line with its pod; raises Waiting when it must wait for its agent."""
    with ctx.locked(namespace, name):
        raw = ctx.kube.get(AGENT_RUNS, namespace, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            ctx.metrics.observe_run(namespace, name, None)
            return
        old_wire: dict[str, Any] = dict(raw.get("status") or {})
        old = AgentRunStatus.model_validate(old_wire)
        generation = (raw.get("metadata") or {}).get("generation")
        try:
            run = AgentRun.model_validate(raw)
        except ValidationError as exc:
            if old.phase in TERMINAL_PHASES:
                return
            message = describe_validation_error(exc)
            new = old.model_copy(
                update={"phase": "Failed", "reason": c.INVALID_SPEC, "message": message, "completion_time": ctx.now()}
            )
            _write(ctx, raw, old, old_wire, with_conditions(new, generation, ctx.now()))
            return
        if old.phase in TERMINAL_PHASES:
            ctx.metrics.observe_run(namespace, name, old.phase)
            return
        status, pod = old, None
        if old.agent is None:
            start, pod = _start(ctx, run, raw, old)
            status = start.status
            if status.agent is None:
                _write(ctx, raw, old, old_wire, with_conditions(status, generation, ctx.now()))
                if start.retry:
                    raise Waiting(status.message or "waiting for the agent", AGENT_WAIT_DELAY)
                return
        else:
            pod = ctx.kube.get(PODS, namespace, old.pod_name or "")
        plan = plan_from_pod(status, cancel=run.spec.cancel, pod=observe_pod(pod) if pod else None, now=ctx.now())
        if plan.delete_pod and status.pod_name:
            ctx.kube.delete(PODS, namespace, status.pod_name)
        new = with_conditions(plan.status, generation, ctx.now())
        if _write(ctx, raw, old, old_wire, new):
            _finished(ctx, run, old, new)
            if new.phase != old.phase:
                request_rollup(ctx, namespace, run.spec.agent_ref.name)
            if new.phase in TERMINAL_PHASES:
                agent_name = run.spec.agent_ref.name
                ctx.followups.poke(("prune", namespace, agent_name), lambda: prune(ctx, namespace, agent_name))


def _write(ctx: OperatorContext, raw: Body, old: AgentRunStatus, old_wire: Body, new: AgentRunStatus) -> bool:
    meta = raw.get("metadata") or {}
    patch = status_patch(old_wire, dump(new))
    ctx.metrics.observe_run(meta.get("namespace", ""), meta.get("name", ""), new.phase)
    if not patch:
        return False
    ctx.kube.patch_status(AGENT_RUNS, meta.get("namespace", ""), meta.get("name", ""), patch)
    if new.phase != old.phase or new.reason != old.reason:
        type_ = "Warning" if new.phase == "Failed" or new.reason in (c.AGENT_NOT_FOUND, c.AGENT_NOT_READY) else "Normal"
        post_event(raw, type_, new.reason or new.phase, new.message or new.phase)
    return True


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, field="spec", registry=registry)
    # A mesh run held Queued starts once its mesh adopts (labels) or releases (annotations) it.
    @kopf.on.update(
        k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, field="metadata.labels", labels=MESH_RUNS, registry=registry
    )
    @kopf.on.update(
        k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, field="metadata.annotations", labels=MESH_RUNS, registry=registry
    )
    def run_changed(*, namespace: str | None, name: str, retry: int, **_: Any) -> None:
        ns = namespace or "default"
        guarded(ctx, "agentrun", f"{ns}/{name}", lambda: reconcile_run(ctx, ns, name), retry=retry)

    @kopf.on.event("", "v1", "pods", labels={k.LABEL_RUN: kopf.PRESENT, k.LABEL_COMPONENT: "runner"}, registry=registry)
    def runner_pod_event(*, labels: kopf.Labels, namespace: str | None, **_: Any) -> None:
        """Pod progress; failures are retried by the next pod event or the run's own handler."""
        ns, run = namespace or "default", labels[k.LABEL_RUN]
        guarded(ctx, "agentrun", f"{ns}/{run}", lambda: reconcile_run(ctx, ns, run), retried=False)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    def run_seen(*, type: str, namespace: str | None, name: str, status: kopf.Status, **_: Any) -> None:
        """Keeps the runs-by-phase gauge true, including runs this operator never wrote."""
        ns = namespace or "default"
        if type == "DELETED":
            ctx.metrics.observe_run(ns, name, None)
            ctx.forget(ns, name)
        else:
            ctx.metrics.observe_run(ns, name, status.get("phase") or "Pending")
