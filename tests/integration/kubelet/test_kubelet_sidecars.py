"""Native sidecars (init containers with `restartPolicy: Always`): started in order, running beside the
later init containers and the containers, restarted when they exit, stopped once the containers end,
and never deciding the pod's phase."""

from __future__ import annotations

import pytest
from tests.integration.kubelet.helpers import PodEnv, python_container

pytestmark = pytest.mark.integration

WORK = [{"name": "scratch", "mountPath": "/scratch"}]
# Writes a marker, then runs until SIGTERM, which it answers by exiting 0.
SERVE = (
    "import signal, sys, time, pathlib; pathlib.Path(sys.argv[1]).write_text('up');"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0));"
    "[time.sleep(0.1) for _ in iter(int, 1)]"
)
# Waits for the sidecar's marker: an init container after a sidecar starts once the sidecar runs.
NEEDS_SIDECAR = (
    "import sys, time, pathlib; p = pathlib.Path(sys.argv[1]);"
    "[time.sleep(0.05) for _ in range(200) if not p.exists()]; sys.exit(0 if p.exists() else 4)"
)


def sidecar(name: str, code: str, args: list[str]) -> dict[str, object]:
    return python_container(name, code, args=args, volumeMounts=WORK, restartPolicy="Always")


def test_a_sidecar_runs_beside_the_later_steps_and_stops_after_them(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "initContainers": [
            sidecar("proxy", SERVE, ["/scratch/up"]),
            python_container("agent", NEEDS_SIDECAR, args=["/scratch/up"], volumeMounts=WORK),
        ],
        "containers": [python_container("publish", NEEDS_SIDECAR, args=["/scratch/up"], volumeMounts=WORK)],
    }
    pod_env.create_pod("with-sidecar", spec)
    pod_env.wait_phase("with-sidecar", "Succeeded", "Failed")

    def sidecar_state(pod: dict[str, object]) -> dict[str, object]:
        statuses = (pod.get("status") or {}).get("initContainerStatuses") or []  # type: ignore[attr-defined]
        return next(s["state"] for s in statuses if s["name"] == "proxy")

    pod = pod_env.wait_pod("with-sidecar", lambda p: "terminated" in sidecar_state(p), "sidecar stopped")
    status = pod["status"]
    assert status["phase"] == "Succeeded"
    by_name = {s["name"]: s for s in status["initContainerStatuses"]}
    assert by_name["agent"]["state"]["terminated"]["exitCode"] == 0
    assert by_name["proxy"]["state"]["terminated"]["exitCode"] == 0  # stopped with SIGTERM, answered
    assert by_name["proxy"]["restartCount"] == 0
    publish = status["containerStatuses"][0]["state"]["terminated"]
    assert publish["finishedAt"] <= by_name["proxy"]["state"]["terminated"]["finishedAt"]
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions["Initialized"] == "True"


def test_a_sidecar_that_exits_is_restarted_and_does_not_fail_the_pod(pod_env: PodEnv) -> None:
    crash_once = (
        "import sys, pathlib; p = pathlib.Path(sys.argv[1]);"
        "first = not p.exists(); p.write_text('seen');"
        "sys.exit(5) if first else None;" + SERVE.replace("sys.argv[1]", "sys.argv[2]")
    )
    spec = {
        "restartPolicy": "Never",
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "initContainers": [sidecar("flaky", crash_once, ["/scratch/seen", "/scratch/up"])],
        "containers": [python_container("main", NEEDS_SIDECAR, args=["/scratch/up"], volumeMounts=WORK)],
    }
    pod_env.create_pod("flaky-sidecar", spec)
    pod = pod_env.wait_phase("flaky-sidecar", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded"
    restarted = pod_env.wait_pod(
        "flaky-sidecar",
        lambda p: p["status"]["initContainerStatuses"][0]["restartCount"] >= 1,
        "restarted once",
    )
    assert restarted["status"]["initContainerStatuses"][0]["restartCount"] == 1
    assert "BackOff" in [e.get("reason") for e in pod_env.events("flaky-sidecar")]
