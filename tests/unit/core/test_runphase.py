"""Run phases from pod observations, table-driven."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRunStatus, Usage
from atomesh.api.runfile import split_usage, with_usage
from atomesh.core.runphase import PodObservation, StepState, observe_pod, plan_from_pod, with_conditions

NOW = "2026-01-01T00:05:00Z"
SUMMARY = {
    "outcome": "published",
    "artifact": {"type": "doc", "branch": "atomesh/tidy/r", "files": ["CHANGELOG.md"]},
    "review": {"repo": "acme/site", "number": 3, "url": "http://forge/acme/site/pull/3"},
    "usage": {"inputTokens": 10, "outputTokens": 5, "costUSD": 0.25, "turns": 2},
    "checks": [{"name": "lint", "passed": True}],
}


def term(code: int, message: str = "", reason: str = "") -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "message": message, "reason": reason}}


def pod(phase: str, init: list[dict[str, Any]], main: dict[str, Any] | None, reason: str = "") -> dict[str, Any]:
    names = ["checkout", "agent"]
    status: dict[str, Any] = {
        "phase": phase,
        "reason": reason,
        "initContainerStatuses": [{"name": n, "state": s} for n, s in zip(names, init, strict=False)],
    }
    if main is not None:
        status["containerStatuses"] = [{"name": "publish", "state": main}]
    return {"metadata": {"name": "r-runner"}, "status": status}


RUNNING = AgentRunStatus(phase="Running", pod_name="r-runner", start_time="2026-01-01T00:00:00Z")
PENDING = AgentRunStatus(phase="Pending", pod_name="r-runner")

CASES: list[tuple[str, AgentRunStatus, dict[str, Any] | None, str, str, str | None]] = [
    # id, current status, pod, phase, reason, failed step
    ("scheduled", PENDING, pod("Pending", [], None), "Pending", c.POD_CREATED, None),
    ("checkout running", PENDING, pod("Pending", [{"running": {}}], None), "Running", c.RUNNING, None),
    ("agent running", RUNNING, pod("Pending", [term(0), {"running": {}}], None), "Running", c.RUNNING, None),
    (
        "published",
        RUNNING,
        pod("Succeeded", [term(0), term(0)], term(0, json.dumps(SUMMARY))),
        "AwaitingReview",
        c.AWAITING_REVIEW,
        None,
    ),
    (
        "no changes",
        RUNNING,
        pod("Succeeded", [term(0), term(0)], term(0, json.dumps({"outcome": "noChanges"}))),
        "Succeeded",
        c.NO_CHANGES,
        None,
    ),
    (
        "garbled summary",
        RUNNING,
        pod("Succeeded", [term(0), term(0)], term(0, "not json")),
        "Failed",
        c.STEP_FAILED,
        "publish",
    ),
    ("agent failed", RUNNING, pod("Failed", [term(0), term(3, "boom")], None), "Failed", c.STEP_FAILED, "agent"),
    ("checkout failed", PENDING, pod("Failed", [term(128, "no repo")], None), "Failed", c.STEP_FAILED, "checkout"),
    (
        "deadline during agent",
        RUNNING,
        pod("Failed", [term(0), term(137)], None, reason="DeadlineExceeded"),
        "Failed",
        c.TIMEOUT,
        "agent",
    ),
    ("pod lost while running", RUNNING, None, "Failed", c.POD_LOST, None),
    ("pod lost while pending", PENDING, None, "Failed", c.POD_LOST, None),
]


@pytest.mark.parametrize(
    ("current", "manifest", "phase", "reason", "step"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_phase_from_pod(
    current: AgentRunStatus, manifest: dict[str, Any] | None, phase: str, reason: str, step: str | None
) -> None:
    observed = observe_pod(manifest) if manifest is not None else None
    plan = plan_from_pod(current, cancel=False, pod=observed, now=NOW)
    assert (plan.status.phase, plan.status.reason) == (phase, reason)
    assert plan.delete_pod is False
    if phase == "Failed":
        assert plan.status.failure is not None
        assert plan.status.failure.step == step
        assert plan.status.completion_time == NOW


def test_the_running_status_is_the_same_at_every_step() -> None:
    """One status write per phase: a step starting or ending while the pod runs changes nothing."""
    between = {"waiting": {}}
    steps = [
        pod("Pending", [{"running": {}}], None),
        pod("Pending", [term(0), between], None),
        pod("Pending", [term(0), {"running": {}}], None),
        pod("Running", [term(0), term(0)], {"running": {}}),
    ]
    statuses = [plan_from_pod(RUNNING, cancel=False, pod=observe_pod(p), now=NOW).status for p in steps]
    assert {s.phase for s in statuses} == {"Running"}
    assert len({s.model_dump_json() for s in statuses}) == 1
    assert statuses[0].message == "runner pod r-runner is running"


def test_failed_step_keeps_exit_code_and_message_tail() -> None:
    long = "x" * 5000 + "the real error"
    plan = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(pod("Failed", [term(0), term(2, long)], None)), now=NOW)
    failure = plan.status.failure
    assert failure is not None
    assert failure.exit_code == 2
    assert failure.message.endswith("the real error")
    assert len(failure.message) <= 1024
    assert "exited with code 2" in (plan.status.message or "")


def test_published_fills_artifact_review_and_usage() -> None:
    manifest = pod("Succeeded", [term(0), term(0)], term(0, json.dumps(SUMMARY)))
    status = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(manifest), now=NOW).status
    assert status.artifact is not None
    assert status.artifact.files == ["CHANGELOG.md"]
    assert status.review is not None
    assert (status.review.number, status.review.state, status.review.published_at) == (3, "open", NOW)
    assert status.review.checks_passed is True
    assert status.usage is not None
    assert status.usage.cost_usd == 0.25
    assert status.completion_time is None  # the review decides when the run is complete


@pytest.mark.parametrize("phase", ["Pending", "Running", "AwaitingReview"])
@pytest.mark.parametrize("has_pod", [True, False])
def test_cancel(phase: str, has_pod: bool) -> None:
    current = AgentRunStatus(phase=phase, pod_name="r-runner")  # type: ignore[arg-type]
    observed = PodObservation(name="r-runner", phase="Running") if has_pod else None
    plan = plan_from_pod(current, cancel=True, pod=observed, now=NOW)
    assert (plan.status.phase, plan.status.reason, plan.delete_pod) == ("Cancelled", c.CANCELLED, has_pod)


@pytest.mark.parametrize("phase", ["Succeeded", "Failed", "Cancelled", "Rejected"])
def test_terminal_runs_never_change(phase: str) -> None:
    current = AgentRunStatus(phase=phase, pod_name="r-runner")  # type: ignore[arg-type]
    plan = plan_from_pod(current, cancel=True, pod=None, now=NOW)
    assert plan.status == current
    assert plan.delete_pod is False


def test_awaiting_review_belongs_to_the_review_loop() -> None:
    current = AgentRunStatus(phase="AwaitingReview", pod_name="r-runner")
    steps = (StepState("publish", "terminated", 0),)
    assert plan_from_pod(current, cancel=False, pod=None, now=NOW).status == current
    assert (
        plan_from_pod(current, cancel=False, pod=PodObservation("r", "Succeeded", steps=steps), now=NOW).status
        == current
    )


@pytest.mark.parametrize(
    ("phase", "ready", "reconciling", "stalled"),
    [
        ("Pending", "False", True, False),
        ("Running", "False", True, False),
        ("AwaitingReview", "False", False, False),
        ("Succeeded", "True", False, False),
        ("Failed", "False", False, True),
        ("Cancelled", "False", False, False),
    ],
)
def test_run_conditions(phase: str, ready: str, reconciling: bool, stalled: bool) -> None:
    before = with_conditions(AgentRunStatus(phase="Running", reason="Running"), 1, "t0")
    status = with_conditions(before.model_copy(update={"phase": phase, "reason": phase}), 1, NOW)
    types = {cond.type: cond for cond in status.conditions}
    assert types[c.READY].status == ready
    assert (c.RECONCILING in types) is reconciling
    assert (c.STALLED in types) is stalled
    assert status.observed_generation == 1


STEP_OF_REASON = {
    c.INVALID_RUN_FILE: "checkout",
    c.CHECKOUT_FAILED: "checkout",
    c.SOURCE_NOT_FOUND: "agent",
    c.HARNESS_CRASHED: "agent",
    c.MAX_TURNS_REACHED: "agent",
    c.TOKENS_EXCEEDED: "agent",
    c.MODEL_ERROR: "agent",
    c.BUDGET_EXCEEDED_REASON: "agent",
    c.TIMEOUT: "agent",
    c.LIMIT_EXCEEDED: "agent",
    c.CREDENTIAL_IN_ARTIFACT: "agent",
    c.PATHS_NOT_ALLOWED: "publish",
    c.SYMLINK_OUT_OF_BOUNDS: "publish",
    c.PUSH_FAILED: "publish",
    c.FORGE_ERROR: "publish",
    c.PULL_REQUEST_BRANCH_REFUSED: "publish",
    c.STEP_FAILED: "publish",
    c.CONTEXT_UNAVAILABLE: "checkout",
    c.CONTEXT_TOO_LARGE: "checkout",
    c.CONTEXT_CHANGED: "agent",
    c.MEMORY_COMPACTION_TOO_LARGE: "agent",
}


def failed_in(step: str, message: str) -> dict[str, Any]:
    steps = {"checkout": ([term(1, message)], None), "agent": ([term(0), term(1, message)], None)}
    init, main = steps.get(step, ([term(0), term(0)], term(1, message)))
    return pod("Failed", init, main)


@pytest.mark.parametrize("reason", sorted(c.STEP_FAILURE_REASONS))
def test_the_reason_a_step_names_becomes_the_runs_reason(reason: str) -> None:
    step = STEP_OF_REASON[reason]
    status = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(failed_in(step, f"{reason}: what to fix")), now=NOW)
    assert status.status.phase == "Failed"
    assert status.status.reason == reason
    assert status.status.failure is not None
    assert (status.status.failure.reason, status.status.failure.step) == (reason, step)
    assert status.status.failure.exit_code == 1
    assert status.status.failure.message == f"{reason}: what to fix"
    stalled = with_conditions(status.status, 1, NOW).conditions
    assert [(cond.type, cond.reason) for cond in stalled if cond.type == c.STALLED] == [(c.STALLED, reason)]


@pytest.mark.parametrize("message", ["", "fatal: not a reason", "NotAReason: x", "Traceback (most recent call last):"])
def test_a_step_that_names_no_known_reason_failed_with_step_failed(message: str) -> None:
    status = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(failed_in("agent", message)), now=NOW).status
    assert status.reason == c.STEP_FAILED


def test_a_failed_agent_step_reports_its_usage_so_the_spend_counts() -> None:
    usage = Usage(input_tokens=50_000, output_tokens=10, cost_usd=0.2505, turns=3)
    text = "BudgetExceeded: model cost $0.2505 exceeded limits.maxCostUSD=$0.25 " + "x" * 5000
    message = with_usage(text, usage, 4096)
    assert len(message.encode()) <= 4096
    assert split_usage(message)[1] == usage
    plan = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(failed_in("agent", message)), now=NOW)
    assert (plan.status.phase, plan.status.reason, plan.status.usage) == ("Failed", c.BUDGET_EXCEEDED_REASON, usage)
    assert plan.status.failure is not None
    assert "usage:" not in plan.status.failure.message
    assert split_usage("ModelError: usage: not json") == ("ModelError: usage: not json", None)


def test_the_steps_that_ran_are_recorded_with_their_container_times_when_the_pod_work_ends() -> None:
    def timed(code: int, start: str, end: str) -> dict[str, Any]:
        return {"terminated": {"exitCode": code, "startedAt": start, "finishedAt": end}}

    manifest = pod(
        "Failed",
        [
            timed(0, "2026-01-01T00:00:01Z", "2026-01-01T00:00:04Z"),
            timed(3, "2026-01-01T00:00:04Z", "2026-01-01T00:01:00Z"),
        ],
        {"waiting": {"reason": "PodInitializing"}},
    )
    status = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(manifest), now=NOW).status
    assert status.phase == "Failed"
    assert [(s.name, s.started_at, s.finished_at, s.exit_code) for s in status.steps] == [
        ("checkout", "2026-01-01T00:00:01Z", "2026-01-01T00:00:04Z", 0),
        ("agent", "2026-01-01T00:00:04Z", "2026-01-01T00:01:00Z", 3),
    ]
    published = pod("Succeeded", [term(0), term(0)], term(0, json.dumps(SUMMARY)))
    assert plan_from_pod(RUNNING, cancel=False, pod=observe_pod(published), now=NOW).status.steps == []
