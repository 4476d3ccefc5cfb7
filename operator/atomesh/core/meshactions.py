"""A Mesh's reconcile plan: the `core.meshplan.MeshPlan` (what the graph asks for) as the one
`core.plan.Plan` the controller applies.

Pure. Invariants: creates are the runs' exactly-once names (AlreadyExists is done), with their
RunCreated Event only when new; adoption, release and requeue are merge patches, with their Event
only when the run still exists; the status is the whole MeshStatus and its Events come from
condition changes. A stopped branch or a run that cannot be adopted is reported once per operator:
the plan repeats them on every pass, so the controller passes the reports it already made
(`reported`, keys from `report_key`) and remembers those of the plan it applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api.common import Condition, dump
from atomesh.api.constants import KIND_AGENT_RUN
from atomesh.api.mesh import MeshStatus
from atomesh.core.conditions import find
from atomesh.core.meshplan import MeshPlan
from atomesh.core.meshruns import RELEASE_PATCH, queued_patch
from atomesh.core.meshstatus import invalid_mesh_status, mesh_events
from atomesh.core.plan import Action, Create, Event, Patch, Plan

REPORTED = (c.BRANCH_STOPPED, c.RUN_NOT_ADOPTED)  # Events made once per operator, not per pass


def report_key(event: Event) -> str:
    return f"{event.reason}:{event.message}"


def plan_mesh_actions(plan: MeshPlan, status: Mapping[str, Any], reported: Set[str] = frozenset()) -> Plan:
    """The Mesh's plan; `status` is its status as read."""
    actions: list[Action] = []
    for planned in plan.create:
        detail = f" (queued: {planned.queued})" if planned.queued else ""
        detail = f" (invalid input: {planned.error})" if planned.error else detail
        edges = ", ".join(planned.edges) or planned.node
        message = f"edge {edges} fired: created AgentRun {planned.name}{detail}"
        actions.append(Create(planned.manifest(None), on_created=(Event("Normal", c.RUN_CREATED, message),)))
    for adoption in plan.adopt:
        detail = f" (queued: {adoption.queued})" if adoption.queued else ""
        message = f"AgentRun {adoption.run} started execution {adoption.execution} at node {adoption.node}{detail}"
        actions.append(
            Patch(KIND_AGENT_RUN, adoption.run, adoption.patch(), Event("Normal", c.EXECUTION_STARTED, message))
        )
    for run in plan.release:
        released = Event("Normal", c.RUN_RELEASED, f"released queued AgentRun {run}")
        actions.append(Patch(KIND_AGENT_RUN, run, RELEASE_PATCH, released))
    for run, why in plan.requeue:
        actions.append(Patch(KIND_AGENT_RUN, run, queued_patch(why)))
    reports = [
        Event("Normal", c.BRANCH_STOPPED, f"execution {stop.execution}: node {stop.node} will not run: {stop.reason}")
        for stop in plan.stopped
    ]
    stalled = find(list(plan.conditions), c.STALLED)
    if stalled is None or stalled.status != c.TRUE:  # a graph's problems are in the Stalled condition and its Event
        reports += [Event("Warning", c.RUN_NOT_ADOPTED, problem) for problem in plan.problems]
    fresh = _once(reports, reported)
    return Plan(status=dump(plan.status), actions=tuple(actions), events=fresh + _status_events(status, plan.status))


def invalid_mesh_plan(status: Mapping[str, Any], generation: int | None, message: str, now: str) -> Plan:
    """A Mesh whose spec does not validate: Stalled with the reason (the rollup kept)."""
    try:
        previous = MeshStatus.model_validate(dict(status))
    except ValidationError:
        previous = MeshStatus()
    new = invalid_mesh_status(previous, generation, message, now)
    return Plan(status=dump(new), events=_status_events(status, new))


def _once(events: list[Event], reported: Set[str]) -> tuple[Event, ...]:
    seen = set(reported)
    fresh = []
    for event in events:
        if report_key(event) not in seen:
            seen.add(report_key(event))
            fresh.append(event)
    return tuple(fresh)


def _status_events(old: Mapping[str, Any], new: MeshStatus) -> tuple[Event, ...]:
    before = []
    for item in old.get("conditions") or []:
        try:
            before.append(Condition.model_validate(item))
        except ValidationError:
            continue
    return tuple(
        Event("Warning" if event.type == "Warning" else "Normal", event.reason, event.message)
        for event in mesh_events(before, new.conditions)
    )
