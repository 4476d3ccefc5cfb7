"""Init containers then containers, in order, sharing an emptyDir; exit codes, deadline,
termination messages — as a kubelet reports them in pod status."""

from __future__ import annotations

import pytest
from tests.integration.kubelet.helpers import PodEnv, alive, python_container

pytestmark = pytest.mark.integration

WORK = [{"name": "scratch", "mountPath": "/scratch"}]
APPEND = "import sys, time; open(sys.argv[1], 'a').write(sys.argv[2] + ' ' + str(time.time_ns()) + '\\n')"


def test_init_containers_run_in_order_and_share_an_empty_dir(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "initContainers": [
            python_container("first", APPEND, args=["/scratch/trace", "first"], volumeMounts=WORK),
            python_container("second", APPEND, args=["/scratch/trace", "second"], volumeMounts=WORK),
        ],
        "containers": [
            python_container(
                "main",
                APPEND + "; print(open(sys.argv[1]).read(), end='')",
                args=["/scratch/trace", "main"],
                volumeMounts=WORK,
            )
        ],
    }
    pod_env.create_pod("ordered", spec)
    pod = pod_env.wait_phase("ordered", "Succeeded", "Failed")
    status = pod["status"]
    assert status["phase"] == "Succeeded"
    trace = (pod_env.root / "pods").glob(f"{pod_env.namespace}_ordered_*/volumes/scratch/trace")
    lines = next(trace).read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["first", "second", "main"]
    stamps = [int(line.split()[1]) for line in lines]
    assert stamps == sorted(stamps)
    for container in [*status["initContainerStatuses"], *status["containerStatuses"]]:
        terminated = container["state"]["terminated"]
        assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
        assert terminated["startedAt"] <= terminated["finishedAt"]
        assert container["containerID"].startswith("local://")
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Initialized"]["status"] == "True"
    assert conditions["PodScheduled"]["status"] == "True"
    assert conditions["Ready"]["reason"] == "PodCompleted"
    assert pod["spec"]["nodeName"] == pod_env.kubelet.kubelet.config.node_name
    assert status["startTime"]
    assert status["podIP"] == "127.0.0.1"


def test_non_zero_exit_fails_the_pod_with_exit_code_reason_and_message(pod_env: PodEnv) -> None:
    code = "import sys; open(sys.argv[1], 'w').write('checks failed: 2 of 5'); sys.exit(3)"
    spec = {
        "restartPolicy": "Never",
        "containers": [
            python_container("ok", "pass"),
            python_container("bad", code, args=["/dev/termination-log"]),
        ],
    }
    pod_env.create_pod("failing", spec)
    status = pod_env.wait_phase("failing", "Succeeded", "Failed")["status"]
    assert status["phase"] == "Failed"
    by_name = {c["name"]: c["state"]["terminated"] for c in status["containerStatuses"]}
    assert (by_name["ok"]["exitCode"], by_name["ok"]["reason"]) == (0, "Completed")
    assert (by_name["bad"]["exitCode"], by_name["bad"]["reason"]) == (3, "Error")
    assert by_name["bad"]["message"] == "checks failed: 2 of 5"


def test_failed_init_container_stops_the_pod_before_its_containers(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "initContainers": [python_container("checkout", "raise SystemExit(2)")],
        "containers": [python_container("publish", "print('must not run')")],
    }
    pod_env.create_pod("init-fails", spec)
    status = pod_env.wait_phase("init-fails", "Succeeded", "Failed")["status"]
    assert status["phase"] == "Failed"
    assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 2
    assert status["containerStatuses"][0]["state"] == {"waiting": {"reason": "PodInitializing"}}
    initialized = next(c for c in status["conditions"] if c["type"] == "Initialized")
    assert initialized["status"] == "False"


def test_active_deadline_kills_the_processes_and_fails_the_pod(pod_env: PodEnv) -> None:
    code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)"
    spec = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": 2,
        "terminationGracePeriodSeconds": 5,
        "volumes": [{"name": "scratch", "emptyDir": {}}],
        "containers": [python_container("slow", code, args=["/scratch/pid"], volumeMounts=WORK)],
    }
    pod_env.create_pod("late", spec)
    status = pod_env.wait_phase("late", "Succeeded", "Failed")["status"]
    assert status["phase"] == "Failed"
    assert status["reason"] == "DeadlineExceeded"
    assert "deadline" in status["message"]
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 143  # SIGTERM
    pid_file = next((pod_env.root / "pods").glob(f"{pod_env.namespace}_late_*/volumes/scratch/pid"))
    assert not alive(int(pid_file.read_text()))
    assert pod_env.wait_event("late", "DeadlineExceeded")["type"] == "Normal"


def test_termination_message_is_truncated_and_falls_back_to_logs(pod_env: PodEnv) -> None:
    long_message = "import sys; open(sys.argv[1], 'w').write('x' * 10000)"
    spec = {
        "restartPolicy": "Never",
        "containers": [
            python_container(
                "summary", long_message, args=["/var/summary.json"], terminationMessagePath="/var/summary.json"
            ),
            python_container(
                "crash",
                "import sys; print('fatal: no token for the forge'); sys.exit(1)",
                terminationMessagePolicy="FallbackToLogsOnError",
            ),
        ],
    }
    pod_env.create_pod("messages", spec)
    status = pod_env.wait_phase("messages", "Succeeded", "Failed")["status"]
    by_name = {c["name"]: c["state"]["terminated"] for c in status["containerStatuses"]}
    assert by_name["summary"]["message"] == "x" * 4096
    assert by_name["crash"]["message"].strip() == "fatal: no token for the forge"
