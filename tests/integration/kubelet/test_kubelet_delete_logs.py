"""Deleting a pod stops its processes; `kubectl logs` reads container logs through the API."""

from __future__ import annotations

import subprocess

import pytest
from tests.integration.kubelet.helpers import PodEnv, alive, kubectl_binary, python_container

from atomesh.devstack.kubelet import BackgroundKubelet

pytestmark = pytest.mark.integration

SLEEPER = (
    "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); print('up', flush=True); time.sleep(600)"
)


def kubectl(pod_env: PodEnv, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(pod_env.kubeconfig), "-n", pod_env.namespace, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deleting_a_pod_kills_its_process_and_the_pod_goes_away(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 5,
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "containers": [
            python_container(
                "sleeper", SLEEPER, args=["/scratch/pid"], volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}]
            )
        ],
    }
    pod_env.create_pod("doomed", spec)
    pod_env.wait_phase("doomed", "Running")
    pid_file = next((pod_env.root / "pods").glob(f"{pod_env.namespace}_doomed_*")) / "volumes" / "scratch" / "pid"
    pod_env.wait_pod("doomed", lambda p: pid_file.is_file() and pid_file.read_text() != "", "writing its pid")
    pid = int(pid_file.read_text())
    assert alive(pid)
    pod_env.core.delete_namespaced_pod("doomed", pod_env.namespace)
    pod_env.wait_gone("doomed")
    assert not alive(pid)


def test_kubectl_logs_with_container_and_tail(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "initContainers": [python_container("checkout", "print('cloned')")],
        "containers": [
            python_container(
                "publish",
                "import sys\nfor i in range(5): print(f'line {i}', flush=True)\nprint('oops', file=sys.stderr)",
            )
        ],
    }
    pod_env.create_pod("chatty", spec)
    pod_env.wait_phase("chatty", "Succeeded", "Failed")
    init_logs = kubectl(pod_env, "logs", "chatty", "-c", "checkout")
    assert init_logs.returncode == 0, init_logs.stderr
    assert init_logs.stdout == "cloned\n"
    main_logs = kubectl(pod_env, "logs", "chatty", "-c", "publish")
    assert main_logs.stdout.splitlines() == ["line 0", "line 1", "line 2", "line 3", "line 4", "oops"]
    tail = kubectl(pod_env, "logs", "chatty", "-c", "publish", "--tail", "2")
    assert tail.stdout.splitlines() == ["line 4", "oops"]
    wrong = kubectl(pod_env, "logs", "chatty", "-c", "nope")
    assert wrong.returncode != 0
    assert "nope" in wrong.stderr


def test_kubectl_logs_follow_streams_until_the_container_ends(pod_env: PodEnv) -> None:
    code = "import time\nfor i in range(3):\n    print(f'tick {i}', flush=True); time.sleep(0.3)"
    pod_env.create_pod("ticker", {"restartPolicy": "Never", "containers": [python_container("ticker", code)]})
    pod_env.wait_pod(
        "ticker", lambda p: bool((p["status"].get("containerStatuses") or [{}])[0].get("started")), "started"
    )
    followed = kubectl(pod_env, "logs", "-f", "ticker")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines() == ["tick 0", "tick 1", "tick 2"]


def test_pods_running_when_the_kubelet_stops_are_killed_and_failed_on_restart(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "containers": [
            python_container(
                "sleeper", SLEEPER, args=["/scratch/pid"], volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}]
            )
        ],
    }
    pod_env.create_pod("orphan", spec)
    pod_env.wait_phase("orphan", "Running")
    pid_file = next((pod_env.root / "pods").glob(f"{pod_env.namespace}_orphan_*")) / "volumes" / "scratch" / "pid"
    pod_env.wait_pod("orphan", lambda p: pid_file.is_file() and pid_file.read_text() != "", "writing its pid")
    pod_env.kubelet.stop()
    assert not alive(int(pid_file.read_text()))
    with BackgroundKubelet(pod_env.kubelet.kubelet.config):
        status = pod_env.wait_phase("orphan", "Failed")["status"]
    assert status["reason"] == "NodeRestarted"
    assert "restarted" in status["message"]
