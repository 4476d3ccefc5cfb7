"""Pure: the pod status a kubelet writes, from what happened to each container.

Mirrors what kubelets write for `restartPolicy: Never` pods (the only pod policy the local
kubelet implements): phase, the five pod conditions with stable transition times,
`initContainerStatuses`/`containerStatuses` with waiting/running/terminated states. Native sidecars
(init containers with `restartPolicy: Always`, Kubernetes 1.29+) count as initialized once started,
count towards readiness while running, and never decide the phase: they are stopped after the pod's
containers end, as kubelets do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

HOST_IP = "127.0.0.1"
REASON_DEADLINE = "DeadlineExceeded"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def now_rfc3339(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ContainerRecord:
    """What the kubelet knows about one container; the worker mutates it as the container runs."""

    name: str
    image: str
    init: bool
    waiting_reason: str = "ContainerCreating"
    sidecar: bool = False
    restart_count: int = 0
    waiting_message: str | None = None
    container_id: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    @property
    def terminated(self) -> bool:
        return self.finished_at is not None

    @property
    def succeeded(self) -> bool:
        return self.terminated and self.exit_code == 0

    def terminate(
        self, exit_code: int, finished_at: str, message: str | None = None, reason: str | None = None
    ) -> None:
        self.exit_code = exit_code
        self.finished_at = finished_at
        self.started_at = self.started_at or finished_at
        self.reason = reason or ("Completed" if exit_code == 0 else "Error")
        self.message = message or None

    def restart(self, started_at: str) -> None:
        """A sidecar started again after it exited."""
        if self.terminated:
            self.restart_count += 1
        self.started_at, self.finished_at = started_at, None
        self.exit_code = self.reason = self.message = None

    @property
    def initialized(self) -> bool:
        """An init container is done when it succeeded; a sidecar once it has started."""
        return self.started_at is not None if self.sidecar else self.succeeded


def build_container_status(record: ContainerRecord) -> dict[str, Any]:
    state: dict[str, Any]
    if record.terminated:
        terminated: dict[str, Any] = {
            "exitCode": record.exit_code,
            "reason": record.reason,
            "startedAt": record.started_at,
            "finishedAt": record.finished_at,
        }
        if record.message:
            terminated["message"] = record.message
        if record.container_id:
            terminated["containerID"] = record.container_id
        state = {"terminated": terminated}
    elif record.running:
        state = {"running": {"startedAt": record.started_at}}
    else:
        waiting: dict[str, Any] = {"reason": record.waiting_reason}
        if record.waiting_message:
            waiting["message"] = record.waiting_message
        state = {"waiting": waiting}
    status: dict[str, Any] = {
        "name": record.name,
        "image": record.image,
        "imageID": "",
        "state": state,
        "lastState": {},
        "ready": record.running,
        "restartCount": record.restart_count,
        "started": record.running,
    }
    if record.container_id:
        status["containerID"] = record.container_id
    return status


def compute_phase(init: Sequence[ContainerRecord], main: Sequence[ContainerRecord]) -> str:
    """restartPolicy Never: a failed init container fails the pod; the pod ends when every
    main container has terminated, Succeeded only if all exited 0."""
    if any(r.terminated and not r.succeeded and not r.sidecar for r in init):
        return "Failed"
    if not all(r.initialized for r in init):
        return "Pending"
    if main and all(r.terminated for r in main):
        return "Succeeded" if all(r.succeeded for r in main) else "Failed"
    if any(r.started_at is None for r in main):
        return "Pending"
    return "Running"


def _names(records: Sequence[ContainerRecord]) -> str:
    return "[" + " ".join(r.name for r in records) + "]"


def desired_conditions(
    init: Sequence[ContainerRecord], main: Sequence[ContainerRecord], phase: str, sandbox_ready: bool
) -> list[tuple[str, str, str | None, str | None]]:
    """(type, status, reason, message) for each pod condition, in the order kubelets list them."""
    conditions: list[tuple[str, str, str | None, str | None]] = []
    conditions.append(("PodReadyToStartContainers", "True" if sandbox_ready else "False", None, None))
    unfinished = [r for r in init if not r.initialized]
    if not unfinished:
        conditions.append(("Initialized", "True", None, None))
    else:
        message = f"containers with incomplete status: {_names(unfinished)}"
        conditions.append(("Initialized", "False", "ContainersNotInitialized", message))
    unready = [r for r in [*(r for r in init if r.sidecar), *main] if not r.running]
    if phase in ("Succeeded", "Failed"):
        ready: tuple[str, str | None, str | None] = ("False", "PodCompleted", None)
    elif unready:
        ready = ("False", "ContainersNotReady", f"containers with unready status: {_names(unready)}")
    else:
        ready = ("True", None, None)
    conditions.append(("Ready", *ready))
    conditions.append(("ContainersReady", *ready))
    conditions.append(("PodScheduled", "True", None, None))
    return conditions


def build_conditions(
    previous: Sequence[dict[str, Any]],
    desired: Sequence[tuple[str, str, str | None, str | None]],
    now: str,
) -> list[dict[str, Any]]:
    """Conditions keep their lastTransitionTime while their status does not change."""
    before = {c.get("type"): c for c in previous}
    out = []
    for ctype, status, reason, message in desired:
        old = before.get(ctype)
        changed = old is None or old.get("status") != status
        condition: dict[str, Any] = {
            "type": ctype,
            "status": status,
            "lastTransitionTime": now if changed or old is None else old.get("lastTransitionTime", now),
        }
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        out.append(condition)
    return out


@dataclass
class PodRecord:
    """Pod-level facts: when it started, whether the sandbox exists, a terminal override."""

    start_time: str
    sandbox_ready: bool = False
    reason: str | None = None
    message: str | None = None
    failed: bool = False


def build_pod_status(
    pod_record: PodRecord,
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    previous_conditions: Sequence[dict[str, Any]],
    now: str,
) -> dict[str, Any]:
    phase = "Failed" if pod_record.failed else compute_phase(init, main)
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": build_conditions(
            previous_conditions, desired_conditions(init, main, phase, pod_record.sandbox_ready), now
        ),
        "hostIP": HOST_IP,
        "hostIPs": [{"ip": HOST_IP}],
        "podIP": HOST_IP,
        "podIPs": [{"ip": HOST_IP}],
        "startTime": pod_record.start_time,
        "containerStatuses": [build_container_status(r) for r in main],
    }
    if init:
        status["initContainerStatuses"] = [build_container_status(r) for r in init]
    if pod_record.reason:
        status["reason"] = pod_record.reason
    if pod_record.message:
        status["message"] = pod_record.message
    return status
