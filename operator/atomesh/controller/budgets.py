"""Budgets: the Budget kind's reconcile (spend per window into its status, warnings), the budget gate a
new run passes before its pod is created, and the release of runs Queued by a budget that was raised.

Follows the one reconcile contract: handlers enqueue; `reconcile_budget` reads the Budget, the
namespace's Agents and AgentRuns, plans in `core.budgetplan` and applies. A Budget recounts at its
plan's `Waiting` (at most a minute, and when a window opens). A Budget deleted, or a change of a
Budget's, an Agent's or a Mesh's `spec.budget` or an Agent's `spec.limits`, enqueues `budget-release`
for the namespace, which enqueues its runs Queued by a budget, so a raised limit starts them without
waiting for the window, and its Paused runs, which resume once their per-run limit has room.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.budget import Budget, BudgetStatus, WindowRoom
from atomesh.api.mesh import Mesh
from atomesh.controller.apply import apply
from atomesh.controller.context import OperatorContext
from atomesh.core.budget import BudgetBlock, RunSpend, budget_gate, run_spend, window_room
from atomesh.core.budgetplan import AgentLabels, invalid_budget_plan, plan_budget, scopes_for_run
from atomesh.core.revision import describe_validation_error
from atomesh.kube.resources import AGENT_RUNS, AGENTS, BUDGETS, MESHES

log = logging.getLogger(__name__)
BUDGET, RELEASE = "budget", "budget-release"


def _budgets(ctx: OperatorContext, namespace: str) -> list[Budget]:
    budgets = []
    for item in ctx.kube.list(BUDGETS, namespace):
        try:
            budgets.append(Budget.model_validate(item))
        except ValidationError:
            continue  # its own reconcile reports it InvalidSpec
    return budgets


def _runs(ctx: OperatorContext, namespace: str) -> list[RunSpend]:
    spends = []
    for item in ctx.kube.list(AGENT_RUNS, namespace):
        try:
            spends.append(run_spend(AgentRun.model_validate(item)))
        except ValidationError:
            continue  # an invalid run never started: it spent nothing
    return spends


def _agent_labels(ctx: OperatorContext, namespace: str) -> AgentLabels:
    return {
        item["metadata"]["name"]: dict(item["metadata"].get("labels") or {})
        for item in ctx.kube.list(AGENTS, namespace)
    }


def _mesh(body: dict[str, Any] | None) -> Mesh | None:
    try:
        return Mesh.model_validate(body) if body is not None else None
    except ValidationError:
        return None  # an invalid Mesh is Stalled and admits no run; its own status says why


def budget_state(ctx: OperatorContext, run: AgentRun, agent: Agent) -> tuple[BudgetBlock | None, WindowRoom | None]:
    """Whether a budget that covers a run of `agent` is spent (None: it may start) and, if not, what its
    windows have left. Reads the namespace's runs only when some budget covers the run."""
    namespace = run.metadata.namespace or agent.metadata.namespace or "default"
    mesh_name = run.metadata.labels.get(k.LABEL_MESH)
    mesh = _mesh(ctx.kube.get(MESHES, namespace, mesh_name) if mesh_name else None)
    budgets = _budgets(ctx, namespace)
    selected = any(budget.spec.selector is not None for budget in budgets)
    scopes = scopes_for_run(agent, mesh, budgets, _agent_labels(ctx, namespace) if selected else {})
    if not scopes:
        return None, None
    runs, now = _runs(ctx, namespace), ctx.clock()
    block = budget_gate(scopes, runs, now)
    return block, (window_room(scopes, runs, now) if block is None else None)


def reconcile_budget(ctx: OperatorContext, namespace: str, name: str) -> None:
    body = ctx.kube.get(BUDGETS, namespace, name)
    if body is None or (body.get("metadata") or {}).get("deletionTimestamp"):
        return
    generation = (body.get("metadata") or {}).get("generation")
    try:
        budget = Budget.model_validate(body)
    except ValidationError as exc:
        old = BudgetStatus.model_validate(body.get("status") or {})
        message = describe_validation_error(exc)
        apply(ctx, BUDGETS, body, invalid_budget_plan(old, message, generation, ctx.now()))
        return
    agents, runs, now = _agent_labels(ctx, namespace), _runs(ctx, namespace), ctx.clock()
    plan = plan_budget(budget, agents, runs, now, generation)
    if budget.status is None or budget.status.observed_generation != generation:
        ctx.workers.enqueue(RELEASE, namespace, name)
    apply(ctx, BUDGETS, body, plan)


def release_queued(ctx: OperatorContext, namespace: str) -> None:
    """Enqueue the namespace's runs Queued by a budget (each passes the budget gate again) and its Paused
    runs (each resumes if its per-run limit now has room)."""
    from atomesh.controller.agentrun import AGENT_RUN  # imports this module: the name is read here

    for item in ctx.kube.list(AGENT_RUNS, namespace):
        status = item.get("status") or {}
        queued = status.get("phase") == "Queued" and status.get("reason") == c.BUDGET_EXCEEDED_REASON
        if queued or status.get("phase") == "Paused":
            ctx.workers.enqueue(AGENT_RUN, namespace, item["metadata"]["name"])


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    ctx.workers.register(BUDGET, lambda namespace, name: reconcile_budget(ctx, namespace, name))
    ctx.workers.register(RELEASE, lambda namespace, _name: release_queued(ctx, namespace))

    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_BUDGETS, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_BUDGETS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_BUDGETS, field="spec", registry=registry)
    def budget_changed(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(BUDGET, namespace or "default", name)

    @kopf.on.delete(k.GROUP, k.VERSION, k.PLURAL_BUDGETS, optional=True, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_AGENTS, field="spec.budget", registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_AGENTS, field="spec.limits", registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_MESHES, field="spec.budget", registry=registry)
    def owner_budget_changed(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(RELEASE, namespace or "default", name)
