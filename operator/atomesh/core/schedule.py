"""Schedules: which scheduled run is due, what its deterministic name is, what concurrencyPolicy
asks for, and which finished runs fall outside historyLimit.

Run names are `<agent>-<unix minute of the scheduled time>`, so an operator that restarts after
creating a run but before recording lastScheduleTime creates the same name again and gets
AlreadyExists instead of a duplicate (CronJob names its Jobs the same way).

`schedule_plan` turns a `SchedulePlan` into the one `core.plan.Plan` of the Agent it schedules:
cancel (spec.cancel patches, each with its Event), create (its Event only when new), the status
fields the schedule owns (lastRun, lastScheduleTime, nextScheduleTime; the rest as read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from atomesh.api import conditions as c
from atomesh.api.agent import Triggers
from atomesh.api.agentrun import ACTIVE_PHASES, TERMINAL_PHASES
from atomesh.api.constants import ANNOTATION_SCHEDULED_AT, KIND_AGENT_RUN
from atomesh.core.plan import Action, Create, Delete, Event, Patch, Plan
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.core.validation import check_cron, check_timezone

# A scheduled time missed by more than this (operator down, agent suspended) is skipped, not made up.
STARTING_DEADLINE = timedelta(minutes=5)


def to_rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def next_time(schedule: str, timezone: str, after: datetime) -> datetime:
    """The first scheduled time strictly after `after`, in UTC."""
    start = after.astimezone(ZoneInfo(timezone))
    result: datetime = croniter(schedule, start).get_next(datetime)
    return result.astimezone(UTC)


def last_due(schedule: str, timezone: str, now: datetime) -> datetime:
    """The latest scheduled time at or before `now`, in UTC."""
    start = now.astimezone(ZoneInfo(timezone)) + timedelta(seconds=1)
    when: datetime = croniter(schedule, start).get_prev(datetime)
    while when.astimezone(UTC) > now:
        when = croniter(schedule, when).get_prev(datetime)
    return when.astimezone(UTC)


def scheduled_run_name(agent: str, when: datetime) -> str:
    """One name per schedule slot (the minute since the epoch): a slot runs once, whatever restarts."""
    minute = int(when.astimezone(UTC).timestamp()) // 60
    return run_name(agent, f"-{minute}")


@dataclass(frozen=True)
class RunInfo:
    """What scheduling needs to know about one existing run of the agent."""

    name: str
    phase: str
    created: str = ""
    completed: str = ""
    cancel: bool = False
    execution: str = ""  # the mesh execution it belongs to (label atomesh.io/mesh-execution), if any


@dataclass(frozen=True)
class SchedulePlan:
    """Create `create` (scheduled at `scheduled_at`), cancel `cancel`; record the times."""

    create: str | None = None
    scheduled_at: datetime | None = None
    cancel: tuple[str, ...] = ()
    skipped: str | None = None
    last_schedule_time: datetime | None = None
    next_schedule_time: datetime | None = None


def plan_schedule(
    *,
    agent: str,
    triggers: Triggers,
    suspend: bool,
    last_schedule_time: datetime | None,
    created: datetime,
    now: datetime,
    runs: list[RunInfo],
) -> SchedulePlan:
    """The schedule's decision at `now`. At most one run per call: the most recent due time. An invalid
    schedule or time zone plans nothing: the Agent's own status names the field (InvalidSpec)."""
    if triggers.schedule is None:
        return SchedulePlan(last_schedule_time=last_schedule_time)
    if check_cron(triggers.schedule, ()) or check_timezone(triggers.timezone, ()):
        return SchedulePlan(last_schedule_time=last_schedule_time)
    upcoming = next_time(triggers.schedule, triggers.timezone, now)
    if suspend:
        return SchedulePlan(last_schedule_time=last_schedule_time, next_schedule_time=None)
    due = last_due(triggers.schedule, triggers.timezone, now)
    since = last_schedule_time or created
    if due <= since:
        return SchedulePlan(last_schedule_time=last_schedule_time, next_schedule_time=upcoming)
    if now - due > STARTING_DEADLINE:
        message = f"missed the run scheduled at {to_rfc3339(due)} by more than {STARTING_DEADLINE}; skipped"
        return SchedulePlan(skipped=message, last_schedule_time=due, next_schedule_time=upcoming)
    name = scheduled_run_name(agent, due)
    active = [run for run in runs if run.phase in ACTIVE_PHASES and not run.cancel and run.name != name]
    if active and triggers.concurrency_policy == "Forbid":
        names = ", ".join(sorted(run.name for run in active))
        message = f"skipped the run scheduled at {to_rfc3339(due)}: concurrencyPolicy Forbid and {names} still active"
        return SchedulePlan(skipped=message, last_schedule_time=due, next_schedule_time=upcoming)
    cancel = tuple(sorted(run.name for run in active)) if triggers.concurrency_policy == "Replace" else ()
    return SchedulePlan(
        create=name, scheduled_at=due, cancel=cancel, last_schedule_time=due, next_schedule_time=upcoming
    )


def prune_history(
    runs: list[RunInfo], limit: int, executions: Mapping[str, Sequence[RunInfo]] | None = None
) -> list[str]:
    """Finished runs beyond the newest `limit` (by completion, then creation, then name): delete these.

    A mesh execution's runs go together (`executions`: every run of each execution, of any agent):
    while one of them is unfinished none is deleted, since the mesh plans its edges from them (a
    deleted downstream run would look never created and its edge would fire again). Once all are
    finished and a run of this agent falls beyond the limit, the whole execution is deleted, oldest
    (upstream) first, so an interrupted deletion never leaves a downstream node without its run.
    """
    finished = [run for run in runs if run.phase in TERMINAL_PHASES]
    finished.sort(key=lambda run: (run.completed or run.created, run.created, run.name), reverse=True)
    alone = sorted(run.name for run in finished[limit:] if not run.execution)
    grouped: list[str] = []
    for run in finished[limit:]:
        if not run.execution:
            continue
        members = list((executions or {}).get(run.execution) or [run])
        if any(member.phase not in TERMINAL_PHASES for member in members):
            continue
        for member in sorted(members, key=lambda member: (member.created, member.name)):
            if member.name not in grouped and member.name not in alone:
                grouped.append(member.name)
    return alone + grouped


def build_scheduled_run(
    agent: str, namespace: str, name: str, scheduled_at: datetime, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    """The AgentRun a schedule creates; not owned by the Agent, so deleting the Agent leaves history alone."""
    slot = to_rfc3339(scheduled_at)
    return build_run(
        RunRequest(
            name=name,
            agent=agent,
            trigger="schedule",
            source=slot,
            namespace=namespace,
            labels=labels or {},
            annotations={ANNOTATION_SCHEDULED_AT: slot},
        )
    )


def schedule_plan(plan: SchedulePlan, *, agent: str, namespace: str, status: Mapping[str, Any]) -> Plan:
    """The Agent's plan for the schedule's decision (`status` is the Agent's status as read)."""
    actions: list[Action] = [
        Patch(
            KIND_AGENT_RUN,
            name,
            {"spec": {"cancel": True}},
            Event("Normal", c.RUN_REPLACED, f"cancelled {name}: concurrencyPolicy Replace"),
        )
        for name in plan.cancel
    ]
    wanted: dict[str, Any] = {}
    if plan.create and plan.scheduled_at:
        event = Event("Normal", c.RUN_SCHEDULED, f"created {plan.create} for {to_rfc3339(plan.scheduled_at)}")
        actions.append(
            Create(build_scheduled_run(agent, namespace, plan.create, plan.scheduled_at), on_created=(event,))
        )
        wanted["lastRun"] = plan.create
    wanted["lastScheduleTime"] = to_rfc3339(plan.last_schedule_time) if plan.last_schedule_time else None
    wanted["nextScheduleTime"] = to_rfc3339(plan.next_schedule_time) if plan.next_schedule_time else None
    skipped = (Event("Warning", c.SCHEDULE_SKIPPED, plan.skipped),) if plan.skipped else ()
    return Plan(status={**status, **wanted}, actions=tuple(actions), events=skipped)


def prune_plan(names: Sequence[str]) -> Plan:
    """Delete these runs (their pods and ConfigMaps go with them, as their owner)."""
    return Plan(actions=tuple(Delete(KIND_AGENT_RUN, name) for name in names))
