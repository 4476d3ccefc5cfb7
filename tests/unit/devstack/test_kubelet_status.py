"""Pod status as the local kubelet writes it, built from container records."""

from __future__ import annotations

from atomesh.devstack.kubelet.status import (
    ContainerRecord,
    PodRecord,
    build_conditions,
    build_container_status,
    build_pod_status,
    compute_phase,
    desired_conditions,
)

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"


def record(
    name: str, *, init: bool = False, started: str | None = None, exit_code: int | None = None
) -> ContainerRecord:
    rec = ContainerRecord(name=name, image="atomesh", init=init, started_at=started)
    if exit_code is not None:
        rec.terminate(exit_code, T2)
    return rec


def test_phase_for_restart_policy_never() -> None:
    assert compute_phase([record("i", init=True)], [record("m")]) == "Pending"
    assert compute_phase([record("i", init=True, exit_code=1)], [record("m")]) == "Failed"
    assert compute_phase([record("i", init=True, exit_code=0)], [record("m")]) == "Pending"
    assert compute_phase([record("i", init=True, exit_code=0)], [record("m", started=T1)]) == "Running"
    assert compute_phase([], [record("a", exit_code=0), record("b", started=T1)]) == "Running"
    assert compute_phase([], [record("a", exit_code=0), record("b", exit_code=0)]) == "Succeeded"
    assert compute_phase([], [record("a", exit_code=0), record("b", exit_code=2)]) == "Failed"


def test_container_states() -> None:
    waiting = build_container_status(ContainerRecord("c", "img", False, waiting_reason="PodInitializing"))
    assert waiting["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert waiting["ready"] is False
    running = build_container_status(record("c", started=T1))
    assert running["state"] == {"running": {"startedAt": T1}}
    assert running["ready"] is True
    failed = record("c", started=T1)
    failed.container_id = "local://42"
    failed.terminate(3, T2, "boom")
    status = build_container_status(failed)
    assert status["state"]["terminated"] == {
        "exitCode": 3,
        "reason": "Error",
        "startedAt": T1,
        "finishedAt": T2,
        "message": "boom",
        "containerID": "local://42",
    }
    assert build_container_status(record("c", started=T1, exit_code=0))["state"]["terminated"]["reason"] == "Completed"


def test_conditions_keep_transition_times_until_status_changes() -> None:
    pending = desired_conditions([record("i", init=True)], [record("m")], "Pending", sandbox_ready=True)
    first = build_conditions([], pending, T0)
    initialized = next(c for c in first if c["type"] == "Initialized")
    assert initialized == {
        "type": "Initialized",
        "status": "False",
        "lastTransitionTime": T0,
        "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [i]",
    }
    running = desired_conditions([record("i", init=True, exit_code=0)], [record("m", started=T1)], "Running", True)
    second = {c["type"]: c for c in build_conditions(first, running, T1)}
    assert second["Initialized"]["lastTransitionTime"] == T1
    assert second["PodScheduled"]["lastTransitionTime"] == T0
    assert second["Ready"]["status"] == "True"
    assert [c["type"] for c in first] == [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]


def test_pod_status_with_deadline_override() -> None:
    pod_record = PodRecord(start_time=T0, sandbox_ready=True, failed=True, reason="DeadlineExceeded", message="late")
    status = build_pod_status(pod_record, [], [record("m", started=T1, exit_code=143)], [], T2)
    assert status["phase"] == "Failed"
    assert status["reason"] == "DeadlineExceeded"
    assert status["message"] == "late"
    assert status["startTime"] == T0
    assert status["podIP"] == "127.0.0.1"
    assert "initContainerStatuses" not in status
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "PodCompleted"
