"""plan_start: every way a run that has not started yet can go, decided from what was read."""

from __future__ import annotations

from typing import Any

from core_builders import agent, run

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRun, AgentRunStatus
from atomesh.api.constants import ANNOTATION_QUEUED
from atomesh.core.config import OperatorConfig
from atomesh.core.runstart import plan_start

NOW = "2026-12-01T10:00:00Z"
READY: dict[str, Any] = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@0123456789ab",
    "specHash": "0123456789ab" * 5,
}
CONFIG = OperatorConfig(runner_image="ghcr.io/atomesh/runner:test")


def plan(the_run: AgentRun, **kwargs: Any):
    kwargs.setdefault("agent", agent(READY))
    return plan_start(the_run, AgentRunStatus(), previous=None, config=CONFIG, now=NOW, **kwargs)


def test_a_ready_agent_starts_the_run_with_its_pod_alone() -> None:
    started = plan(run())
    assert [obj["kind"] for obj in started.objects] == ["Pod"]  # the run file travels in the pod
    assert started.pod is started.objects[0]
    status = started.status
    assert (status.phase, status.reason, status.start_time) == ("Pending", c.POD_CREATED, NOW)
    assert status.pod_name == started.pod["metadata"]["name"]
    assert status.agent is not None
    assert status.agent.revision == "inline@0123456789ab"
    assert not started.retry
    # Deterministic: planning again (an operator restarted between the creates) names the same objects.
    assert [o["metadata"]["name"] for o in plan(run()).objects] == [o["metadata"]["name"] for o in started.objects]


def test_a_cancelled_run_never_starts() -> None:
    cancelled = plan(run(cancel=True))
    assert (cancelled.status.phase, cancelled.status.reason, cancelled.status.completion_time) == (
        "Cancelled",
        c.CANCELLED,
        NOW,
    )
    assert cancelled.objects == ()


def test_a_missing_or_unready_agent_waits_and_is_retried() -> None:
    missing = plan(run(), agent=None)
    assert (missing.status.phase, missing.status.reason, missing.retry) == ("Pending", c.AGENT_NOT_FOUND, True)
    unready = plan(run(), agent=agent({"conditions": [{"type": "Ready", "status": "False", "reason": "X"}]}))
    assert (unready.status.reason, unready.retry, unready.objects) == (c.AGENT_NOT_READY, True, ())


def test_a_run_the_mesh_holds_waits_for_the_mesh_not_for_a_retry() -> None:
    held = run()
    held.metadata.annotations[ANNOTATION_QUEUED] = "over maxActiveRuns"
    queued = plan(held)
    assert (queued.status.phase, queued.status.reason, queued.retry) == ("Pending", c.QUEUED, False)


def test_input_the_agent_does_not_take_fails_the_run() -> None:
    failed = plan(run(input_={"topic": 7}))
    assert (failed.status.phase, failed.status.reason, failed.status.completion_time) == (
        "Failed",
        c.INVALID_INPUT,
        NOW,
    )
    assert "spec.input.topic" in (failed.status.message or "")
    assert failed.objects == ()
