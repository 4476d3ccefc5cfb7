"""AgentRun reconciliation: admit, snapshot the agent, create the runner pod (carrying the run file),
and map the pod's progress into the run's status; and pruning an agent's finished runs beyond its
historyLimit, a follow-up coalesced like the rollup.

The run's own events, its pod's events and the review loop's triggers all enqueue the one request
`agentrun <namespace>/<name>`, so the work queue never reconciles a run twice at once: its reconcile
reads the run, its Agent and its pod, plans in `core.runstart`, applies, and then (when a look was
asked for) follows its pull request (`controller.review`). Every step is idempotent (deterministic
names, create-or-get, write-only-on-change), so an operator killed at any point picks up where it
left off without duplicate pods. Runs in AwaitingReview are the review loop's: this module only
handles their cancellation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, TERMINAL_PHASES, AgentRun, AgentRunStatus
from atomesh.api.context import AgentMemory
from atomesh.api.mesh import MeshSpec
from atomesh.controller.agent import FOLLOW_UP_DELAY, agent_of, request_rollup, runs_of
from atomesh.controller.apply import apply
from atomesh.controller.budgets import budget_state
from atomesh.controller.context import OperatorContext
from atomesh.core.memory import shared_memory
from atomesh.core.plan import Plan
from atomesh.core.pod import revision_context, runner_pod_name
from atomesh.core.reviewrecord import awaits_reviewer
from atomesh.core.revision import describe_validation_error
from atomesh.core.runresume import plan_paused, resume_cause
from atomesh.core.runstart import invalid_run_plan, plan_run
from atomesh.core.schedule import RunInfo, parse_rfc3339, prune_history, prune_plan
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, PODS

log = logging.getLogger(__name__)
AGENT_RUN, PRUNE = "agentrun", "agent-prune"


def _load_agent(body: Body | None) -> Agent | None:
    if body is None:
        return None
    try:
        return Agent.model_validate(body)
    except ValidationError:
        return None  # admission reports it as not Ready; the Agent's own status says why


def _mesh_memory(body: Body | None) -> AgentMemory | None:
    """The memory a Mesh shares with its nodes; None without one or when its spec is invalid (the Mesh's
    own status says why)."""
    try:
        return MeshSpec.model_validate((body or {}).get("spec") or {}).memory if body else None
    except ValidationError:
        return None


def _finished(ctx: OperatorContext, run: AgentRun, old: AgentRunStatus, new: AgentRunStatus) -> None:
    """Metrics once per attempt, when its pod's work ends (a Paused run's attempts each count their own spend)."""
    if old.phase not in ACTIVE_PHASES or new.phase in ACTIVE_PHASES:
        return
    start, end = parse_rfc3339(new.start_time), parse_rfc3339(ctx.now())
    seconds = (end - start).total_seconds() if start and end else None
    usage, before = new.usage, old.usage  # a resumed run's usage includes what its paused attempt counted
    tokens = (usage.input_tokens + usage.output_tokens) if usage else 0
    tokens -= (before.input_tokens + before.output_tokens) if before else 0
    cost = (usage.cost_usd if usage else 0.0) - (before.cost_usd if before else 0.0)
    ctx.metrics.run_finished(run.spec.agent_ref.name, seconds, cost, tokens)


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
    body = ctx.kube.get(AGENTS, namespace, agent_name)
    agent = _load_agent(body)
    if body is None or agent is None:
        return
    own = run_infos(ctx, namespace, agent_name)
    # Only the executions of its own runs decide (their runs of any agent go together), each read by label.
    executions = {
        execution: [
            _run_info(item) for item in ctx.kube.list(AGENT_RUNS, namespace, {k.LABEL_MESH_EXECUTION: execution})
        ]
        for execution in sorted({info.execution for info in own if info.execution})
    }
    apply(ctx, AGENTS, body, prune_plan(prune_history(own, agent.spec.history_limit, executions)))


def reconcile_run(ctx: OperatorContext, namespace: str, name: str) -> None:
    """Bring the run's status in line with its pod; raises Waiting when it must wait for its agent."""
    raw = ctx.kube.get(AGENT_RUNS, namespace, name)
    if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
        ctx.metrics.observe_run(namespace, name, None)
        return
    old = AgentRunStatus.model_validate(raw.get("status") or {})
    generation = (raw.get("metadata") or {}).get("generation")
    try:
        run = AgentRun.model_validate(raw)
    except ValidationError as exc:
        plan = invalid_run_plan(old, describe_validation_error(exc), generation, ctx.now())
        if plan.status is not None:
            apply(ctx, AGENT_RUNS, raw, plan)
            ctx.metrics.observe_run(namespace, name, plan.status.get("phase"))
        return
    if old.phase in TERMINAL_PHASES:
        ctx.metrics.observe_run(namespace, name, old.phase)
        return
    if old.phase == "Paused":
        apply_run_plan(ctx, raw, run, old, paused_plan(ctx, run, old, generation))
        return
    agent, previous, budget, room = None, None, None, None
    if old.agent is None and not run.spec.cancel:
        agent = _load_agent(ctx.kube.get(AGENTS, namespace, run.spec.agent_ref.name))
        mesh = run.metadata.labels.get(k.LABEL_MESH)
        if agent is not None and agent.spec.memory is None and mesh:
            agent = shared_memory(agent, _mesh_memory(ctx.kube.get(MESHES, namespace, mesh)))
        budget, room = budget_state(ctx, run, agent) if agent is not None else (None, None)
        if run.spec.revision_of:
            previous_body = ctx.kube.get(AGENT_RUNS, namespace, run.spec.revision_of)
            previous = AgentRun.model_validate(previous_body) if previous_body else None
    pod = ctx.kube.get(PODS, namespace, old.pod_name or runner_pod_name(name))
    plan = plan_run(
        run,
        old,
        agent=agent,
        previous=previous,
        pod=pod,
        config=ctx.config,
        now=ctx.now(),
        generation=generation,
        budget=budget,
        window_room=room,
    )
    apply_run_plan(ctx, raw, run, old, plan)


def paused_plan(ctx: OperatorContext, run: AgentRun, old: AgentRunStatus, generation: int | None) -> Plan:
    """Stay Paused or resume (`core.runresume`), from the Agent as it is now."""
    namespace = run.metadata.namespace or "default"
    agent = _load_agent(ctx.kube.get(AGENTS, namespace, run.spec.agent_ref.name))
    previous_body = ctx.kube.get(AGENT_RUNS, namespace, run.spec.revision_of) if run.spec.revision_of else None
    previous = AgentRun.model_validate(previous_body) if previous_body else None
    # The namespace's runs are read only when the run would resume: a window may still hold it.
    wanted = agent is not None and not run.spec.cancel and resume_cause(run, old, agent)
    budget, room = budget_state(ctx, run, agent) if agent is not None and wanted else (None, None)
    return plan_paused(
        run,
        old,
        agent=agent,
        revision=revision_context(previous),
        config=ctx.config,
        now=ctx.now(),
        generation=generation,
        budget=budget,
        window_room=room,
    )


def apply_run_plan(ctx: OperatorContext, raw: Body, run: AgentRun, old: AgentRunStatus, plan: Plan) -> None:
    namespace, name = run.metadata.namespace or "default", run.metadata.name
    new = AgentRunStatus.model_validate(plan.status or {}) if plan.status is not None else old
    ctx.metrics.observe_run(namespace, name, new.phase)
    if not apply(ctx, AGENT_RUNS, raw, plan) or new.agent is None:
        return
    _finished(ctx, run, old, new)
    if new.phase in TERMINAL_PHASES:  # old was not: terminal runs return above
        ctx.traces.run_finished(run.model_copy(update={"status": new}))
    agent_name = run.spec.agent_ref.name
    if new.phase != old.phase:
        request_rollup(ctx, namespace, agent_name)
    if new.phase in TERMINAL_PHASES:
        ctx.workers.enqueue(PRUNE, namespace, agent_name, after=FOLLOW_UP_DELAY)


def run_signature(body: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a run's reconcile depends on besides its pod: its spec (generation), its resume request, and,
    for a mesh's run held Queued, the labels and annotations through which its mesh adopts or releases it."""
    meta = body.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    annotations = dict(meta.get("annotations") or {})
    if k.LABEL_MESH not in labels:
        return (meta.get("uid"), meta.get("generation"), annotations.get(k.ANNOTATION_RESUME))
    return (meta.get("uid"), meta.get("generation"), labels, annotations)


def register(
    registry: kopf.OperatorRegistry, ctx: OperatorContext, review: Callable[[str, str], None] | None = None
) -> None:
    """`review`, when the review loop is on, follows the run's pull request after its reconcile."""

    def reconcile(namespace: str, name: str) -> None:
        reconcile_run(ctx, namespace, name)
        if review is not None:
            review(namespace, name)

    ctx.workers.register(AGENT_RUN, reconcile)
    ctx.workers.register(PRUNE, lambda namespace, name: prune(ctx, namespace, name))

    seen: dict[tuple[str, str], tuple[Any, ...]] = {}
    seen_lock = threading.Lock()

    # What changed is judged here, in memory: kopf's create/update handlers would persist a diff base
    # in an annotation on every run (a write per run).
    def run_changed(type: str | None, body: Body) -> None:
        meta = body.get("metadata") or {}
        key = (str(meta.get("namespace") or "default"), str(meta.get("name")))
        changed = run_signature(body)
        with seen_lock:
            if type == "DELETED":
                seen.pop(key, None)
                return
            if seen.get(key) == changed:
                return  # only its status changed: the operator's own write, or the review loop's
            seen[key] = changed
        # A finished run seen in a LIST waits behind new work (a restart resyncs every run); one
        # still to do is new work.
        phase = (body.get("status") or {}).get("phase")
        ctx.workers.enqueue(AGENT_RUN, *key, resync=type is None and phase in TERMINAL_PHASES)

    def run_seen(type: str | None, body: Body) -> None:
        """Keeps the runs-by-phase and review-queue gauges true, including runs this operator never wrote."""
        meta, status = body.get("metadata") or {}, body.get("status") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
        if type == "DELETED":
            ctx.metrics.observe_run(ns, name, None)
            ctx.metrics.observe_review_queue(ns, name, None)
            return
        phase = status.get("phase") or "Pending"
        ctx.metrics.observe_run(ns, name, phase)
        waiting = awaits_reviewer(phase, (status.get("review") or {}).get("revisionRun"))
        agent = agent_of(body)
        ctx.metrics.observe_review_queue(ns, name, agent if waiting and agent else None)

    ctx.run_events.subscribe(run_changed)
    ctx.run_events.subscribe(run_seen)

    @kopf.on.event("", "v1", "pods", labels={k.LABEL_RUN: kopf.PRESENT, k.LABEL_COMPONENT: "runner"}, registry=registry)
    async def runner_pod_event(*, type: str | None, labels: kopf.Labels, namespace: str | None, **_: Any) -> None:
        """Pod progress."""
        ctx.workers.enqueue(AGENT_RUN, namespace or "default", labels[k.LABEL_RUN], resync=type is None)
