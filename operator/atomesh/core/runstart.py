"""A run's reconcile plan (`plan_run`): how a run that has not started yet starts, and how its status
follows its runner pod; the whole decision, made from what the controller read.

Pure: the controller reads the run, its Agent, (for a revision) the run it revises, and its pod,
asks `plan_run`, and applies the `core.plan.Plan`: create the pod carrying the run file (with a
ConfigMap first only for a run file too large for an annotation; both owned by the run), delete the
pod when cancelled, write the status, post the events. Invariants:

- Only a `start` admission produces objects; cancel, wait, hold and fail produce a status alone.
- A run admitted while a budget that covers it is spent (`budget`, from `core.budget.budget_gate`)
  waits in phase Queued, reason BudgetExceeded, and is looked at again when the window opens. One that
  starts carries what the windows have left (`window_room`) in its run file: its model proxy pauses it
  there mid-flight.
- The ConfigMap and the pod have deterministic names (`core.pod`), so applying a plan twice
  (an operator killed between the two creates) creates each once.
- `retry` says whether the run must be looked at again by itself (its Agent may appear or become
  Ready); a run the mesh holds is not retried: the mesh's next change to it is its next event.
- An Event is planned only when the phase or reason changes, so a plan applied twice posts it once;
  and only where a user looks for one: the outcome and warnings. A run's start (its pod created,
  then Running) is the status's news, not an Event's: the status names the pod and the Agent's
  revision, and an Event saying so again would be a write per run for nothing (a resumed run's new
  pod does get one, `core.runresume`: a resume is news the status does not keep).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import TERMINAL_PHASES, AgentRun, AgentRunStatus
from atomesh.api.budget import WindowRoom
from atomesh.api.common import dump
from atomesh.core.admission import admit_run
from atomesh.core.budget import BudgetBlock
from atomesh.core.config import OperatorConfig
from atomesh.core.plan import Action, Create, Delete, Event, Plan
from atomesh.core.pod import AttemptContext, build_runner_objects, revision_context
from atomesh.core.requeue import Waiting
from atomesh.core.runphase import observe_pod, plan_from_pod, with_conditions
from atomesh.core.schedule import parse_rfc3339

AGENT_WAIT_DELAY = 10.0  # a run waiting for its Agent looks again this often


@dataclass(frozen=True)
class StartPlan:
    """The status the run gets, and the objects to create first (empty unless it starts)."""

    status: AgentRunStatus
    objects: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    retry: bool = False
    retry_after: float = AGENT_WAIT_DELAY

    @property
    def pod(self) -> dict[str, Any] | None:
        return next((obj for obj in self.objects if obj.get("kind") == "Pod"), None)


def plan_start(
    run: AgentRun,
    status: AgentRunStatus,
    *,
    agent: Agent | None,
    previous: AgentRun | None,
    config: OperatorConfig,
    now: str,
    budget: BudgetBlock | None = None,
    clock: datetime | None = None,
    window_room: WindowRoom | None = None,
) -> StartPlan:
    """Cancelled before it started, waiting, held, failed, or started: its runner pod (and ConfigMap)."""
    if run.spec.cancel:
        cancelled = status.model_copy(
            update={"phase": "Cancelled", "reason": c.CANCELLED, "message": "cancelled before it started"}
        )
        return StartPlan(cancelled.model_copy(update={"completion_time": now}))
    admission = admit_run(run, agent)
    if admission.verdict in ("wait", "hold"):
        waiting = status.model_copy(
            update={"phase": "Pending", "reason": admission.reason, "message": admission.message}
        )
        return StartPlan(waiting, retry=admission.verdict == "wait")
    if admission.verdict == "fail" or admission.snapshot is None:
        update = {"phase": "Failed", "reason": admission.reason, "message": admission.message, "completion_time": now}
        failed = status.model_copy(update=update)
        return StartPlan(failed)
    if budget is not None:
        queued = status.model_copy(
            update={"phase": "Queued", "reason": c.BUDGET_EXCEEDED_REASON, "message": budget.message}
        )
        return StartPlan(queued, retry=True, retry_after=budget.delay(clock or budget.opens_at))
    snapshot = admission.snapshot
    attempt = AttemptContext(window_room=window_room) if window_room is not None else None
    objects = build_runner_objects(run, snapshot, config, revision_context(previous), attempt)
    pod = objects[-1]
    name = pod["metadata"]["name"]
    started = status.model_copy(
        update={
            "phase": "Pending",
            "reason": c.POD_CREATED,
            "message": f"runner pod {name} is starting",  # as `plan_from_pod` says it: no second write
            "agent": snapshot,
            "pod_name": name,
            "start_time": status.start_time or now,
        }
    )
    return StartPlan(started, objects)


def plan_run(
    run: AgentRun,
    old: AgentRunStatus,
    *,
    agent: Agent | None,
    previous: AgentRun | None,
    pod: dict[str, Any] | None,
    config: OperatorConfig,
    now: str,
    generation: int | None,
    budget: BudgetBlock | None = None,
    window_room: WindowRoom | None = None,
) -> Plan:
    """Start the run if it has not started (admission, ConfigMap, pod), then follow its pod.

    `pod` is the run's runner pod as read (None when there is none); a pod this plan creates is
    followed as the API server stores a new one, without status yet."""
    actions: tuple[Action, ...] = ()
    status = old
    if old.agent is None:
        clock = parse_rfc3339(now)
        start = plan_start(
            run,
            old,
            agent=agent,
            previous=previous,
            config=config,
            now=now,
            budget=budget,
            clock=clock,
            window_room=window_room,
        )
        status = start.status
        if status.agent is None:
            waiting = Waiting(status.message or "waiting for the agent", start.retry_after) if start.retry else None
            return run_status_plan(old, with_conditions(status, generation, now), requeue=waiting)
        actions = tuple(Create(obj, owned=True) for obj in start.objects)
        pod = pod if pod is not None else start.pod
    followed = plan_from_pod(status, cancel=run.spec.cancel, pod=observe_pod(pod) if pod else None, now=now)
    if followed.delete_pod and status.pod_name:
        actions += (Delete("Pod", status.pod_name),)
    return run_status_plan(old, with_conditions(followed.status, generation, now), actions)


def invalid_run_plan(old: AgentRunStatus, message: str, generation: int | None, now: str) -> Plan:
    """A run whose spec does not validate fails with InvalidSpec (once: a finished run stays as it is)."""
    if old.phase in TERMINAL_PHASES:
        return Plan()
    update = {"phase": "Failed", "reason": c.INVALID_SPEC, "message": message, "completion_time": now}
    return run_status_plan(old, with_conditions(old.model_copy(update=update), generation, now))


def run_status_plan(
    old: AgentRunStatus, new: AgentRunStatus, actions: tuple[Action, ...] = (), requeue: Waiting | None = None
) -> Plan:
    """Write `new`; an Event when the phase or the reason changed (Warning for a failure, a pause at a hard
    limit or a missing Agent), except for the run's start (PodCreated, Running)."""
    events: tuple[Event, ...] = ()
    if new.phase != old.phase or new.reason != old.reason:
        warning = new.phase in ("Failed", "Paused") or new.reason in (c.AGENT_NOT_FOUND, c.AGENT_NOT_READY)
        if warning or new.reason not in (c.POD_CREATED, c.RUNNING):
            events = (Event("Warning" if warning else "Normal", new.reason or new.phase, new.message or new.phase),)
    return Plan(status=dump(new), actions=actions, events=events, requeue=requeue)
