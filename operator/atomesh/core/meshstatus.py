"""A Mesh's status rollup: agents ready, active and queued runs, reviews awaited, spend today, its budget's
windows and this month's cost per accepted artifact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES, AgentRun
from atomesh.api.common import Condition
from atomesh.api.constants import ANNOTATION_QUEUED, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.api.mesh import Mesh, MeshStatus, PendingReview
from atomesh.core.budget import run_spend, spending
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.revision import AgentEvent
from atomesh.core.schedule import parse_rfc3339

if TYPE_CHECKING:
    from atomesh.core.meshruns import Adoption, PlannedRun


def agent_ready(agent: Agent | None) -> bool:
    """The Agent exists and its Ready condition is True."""
    if agent is None or agent.status is None:
        return False
    ready = find(agent.status.conditions, c.READY)
    return ready is not None and ready.status == c.TRUE


def _day_of(run: AgentRun) -> datetime | None:
    """When a run's spend counts: its completion, else its start, else its creation (UTC)."""
    status = run.status
    stamp = (status.completion_time or status.start_time) if status else None
    return parse_rfc3339(stamp or run.metadata.creation_timestamp)


def cost_today(runs: Sequence[AgentRun], now: datetime) -> float:
    """Spend of the runs whose cost falls on `now`'s UTC day."""
    total = 0.0
    for run in runs:
        usage = run.status.usage if run.status else None
        when = _day_of(run)
        if usage is not None and when is not None and when.date() == now.date():
            total += usage.cost_usd
    return round(total, 6)


def rollup_status(
    mesh: Mesh,
    agents: Mapping[str, Agent],
    runs: Sequence[AgentRun],
    now: datetime,
    desired: Sequence[Condition],
    now_text: str,
    *,
    create: Sequence[PlannedRun] = (),
    adopt: Sequence[Adoption] = (),
    release: Sequence[str] = (),
) -> MeshStatus:
    """The status after the plan is applied: created, adopted and released runs already counted."""
    ready = sum(1 for node in mesh.spec.agents if agent_ready(agents.get(node.agent_ref.name)))
    total = len(mesh.spec.agents)
    released = set(release)
    adopted = {adoption.run: adoption for adoption in adopt}
    active = queued = 0
    for run in runs:
        if run.status is not None and run.status.phase == "Queued":  # held by a budget (core.budget)
            queued += 1
            continue
        if run.status is not None and run.status.phase not in ACTIVE_PHASES:
            continue
        name = run.metadata.name
        held = name in adopted and adopted[name].queued is not None
        held = held or (bool(run.metadata.annotations.get(ANNOTATION_QUEUED)) and name not in released)
        in_mesh = bool(run.metadata.labels.get(LABEL_MESH_EXECUTION)) or name in adopted
        if held:
            queued += 1
        elif in_mesh:
            active += 1
    for planned in create:
        if planned.queued:
            queued += 1
        else:
            active += 1
    awaiting = sorted(
        (run for run in runs if run.status is not None and run.status.phase == "AwaitingReview"),
        key=lambda run: run.metadata.name,
    )
    reviews = [
        PendingReview(
            run=run.metadata.name,
            node=run.metadata.labels.get(LABEL_MESH_NODE, ""),
            url=run.status.review.url if run.status and run.status.review else None,
        )
        for run in awaiting
    ]
    executions = [
        (run.metadata.creation_timestamp or "", run.metadata.name, run.metadata.labels[LABEL_MESH_EXECUTION])
        for run in runs
        if run.metadata.labels.get(LABEL_MESH_EXECUTION)
    ]
    executions += [(_stamp(runs, adoption.run), adoption.run, adoption.execution) for adoption in adopt]
    previous = mesh.status.conditions if mesh.status else []
    windows, artifact_cost = spending([run_spend(run) for run in runs], mesh.spec.budget, now)
    return MeshStatus(
        observed_generation=mesh.metadata.generation,
        conditions=merge_conditions(previous, desired, now_text),
        agents_ready=ready,
        agents_total=total,
        agents_summary=f"{ready}/{total}",
        active_runs=active,
        queued_runs=queued,
        awaiting_review=len(reviews),
        pending_reviews=reviews,
        cost_today_usd=cost_today(runs, now),
        last_execution=max(executions)[2] if executions else (mesh.status.last_execution if mesh.status else None),
        budget=windows,
        artifact_cost=artifact_cost,
    )


def _stamp(runs: Sequence[AgentRun], name: str) -> str:
    return next((run.metadata.creation_timestamp or "" for run in runs if run.metadata.name == name), "")


def invalid_mesh_status(previous: MeshStatus, generation: int | None, message: str, now: str) -> MeshStatus:
    """A Mesh whose spec does not validate: Stalled and not Ready with the reason; the rollup is kept."""
    desired = [
        condition(c.STALLED, c.TRUE, c.INVALID_SPEC, message, generation),
        condition(c.READY, c.FALSE, c.INVALID_SPEC, message, generation),
    ]
    conditions = merge_conditions(previous.conditions, desired, now)
    return previous.model_copy(update={"observed_generation": generation, "conditions": conditions})


def mesh_events(old: Sequence[Condition], new: Sequence[Condition]) -> list[AgentEvent]:
    """Events for the Mesh conditions whose status or reason changed: Stalled and a budget exceeded
    as Warnings; Ready, and the others once they have been seen before, as Normal."""
    events = []
    for type_ in (c.STALLED, c.READY, c.BUDGET_EXCEEDED, c.SUSPENDED):
        before, after = find(old, type_), find(new, type_)
        if after is None or (before is not None and (before.status, before.reason) == (after.status, after.reason)):
            continue
        if type_ == c.STALLED or (type_ == c.BUDGET_EXCEEDED and after.status == c.TRUE):
            events.append(AgentEvent("Warning", after.reason, after.message or after.reason))
        elif type_ == c.READY or before is not None:
            events.append(AgentEvent("Normal", after.reason, after.message or f"{type_} is {after.status}"))
    return events
