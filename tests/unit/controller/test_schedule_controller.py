"""The schedule controller's plan-apply pair on FakeKube: a due run created once with its Event and
times, an idle schedule writing nothing, Replace cancelling the run still active, a missed run skipped."""

from __future__ import annotations

from datetime import timedelta

from controller_fakes import NAMESPACE, NOW, Events, agent_manifest, operator_context, writes_to

from atomesh.api import conditions as c
from atomesh.controller.context import OperatorContext
from atomesh.controller.schedule import reconcile_schedule
from atomesh.core.schedule import scheduled_run_name
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS


def scheduled(policy: str = "Allow") -> tuple[OperatorContext, FakeKube, Events]:
    events = Events()
    ctx, kube = operator_context(events)
    triggers = {"schedule": "0 * * * *", "concurrencyPolicy": policy}
    kube.create(AGENTS, agent_manifest("nightly", triggers=triggers))
    return ctx, kube, events


def test_a_due_run_is_created_once_and_the_times_recorded() -> None:
    ctx, kube, events = scheduled()
    reconcile_schedule(ctx, NAMESPACE, "nightly")
    name = scheduled_run_name("nightly", NOW)
    assert [run["metadata"]["name"] for run in kube.list(AGENT_RUNS, NAMESPACE)] == [name]
    status = (kube.get(AGENTS, NAMESPACE, "nightly") or {})["status"]
    assert status == {
        "lastRun": name,
        "lastScheduleTime": "2026-11-24T12:00:00Z",
        "nextScheduleTime": "2026-11-24T13:00:00Z",
    }
    assert events.reasons() == [c.RUN_SCHEDULED]

    writes = list(kube.writes)
    ctx.clock = lambda: NOW + timedelta(minutes=20)
    reconcile_schedule(ctx, NAMESPACE, "nightly")  # nothing due, nothing changed: no write
    assert (kube.writes, events.reasons()) == (writes, [c.RUN_SCHEDULED])


def test_replace_cancels_the_run_still_active() -> None:
    ctx, kube, events = scheduled("Replace")
    reconcile_schedule(ctx, NAMESPACE, "nightly")
    first = scheduled_run_name("nightly", NOW)
    ctx.clock = lambda: NOW + timedelta(hours=1)
    reconcile_schedule(ctx, NAMESPACE, "nightly")
    assert (kube.get(AGENT_RUNS, NAMESPACE, first) or {})["spec"]["cancel"] is True
    assert events.reasons() == [c.RUN_SCHEDULED, c.RUN_REPLACED, c.RUN_SCHEDULED]
    assert len(kube.list(AGENT_RUNS, NAMESPACE)) == 2


def test_a_run_missed_by_more_than_the_deadline_is_skipped_with_a_warning() -> None:
    ctx, kube, events = scheduled()
    ctx.clock = lambda: NOW + timedelta(minutes=30)
    reconcile_schedule(ctx, NAMESPACE, "nightly")
    assert kube.list(AGENT_RUNS, NAMESPACE) == []
    assert [(type_, reason) for _, type_, reason, _ in events] == [("Warning", c.SCHEDULE_SKIPPED)]
    assert (kube.get(AGENTS, NAMESPACE, "nightly") or {})["status"]["lastScheduleTime"] == "2026-11-24T12:00:00Z"
    assert writes_to(kube, "agentruns") == []
