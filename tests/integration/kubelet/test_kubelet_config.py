"""Env from Secrets, ConfigMaps and the downward API, volumes, path mapping, the process
environment rule, and pods the kubelet cannot (or will not) run."""

from __future__ import annotations

import json

import pytest
from tests.integration.kubelet.helpers import IMAGE, PodEnv, python_container

pytestmark = pytest.mark.integration

DUMP = (
    "import json, os, sys; out = {'env': dict(os.environ), 'argv': sys.argv[1:], 'cwd': os.getcwd(), 'files': {}}\n"
    "for root in sys.argv[1:]:\n"
    "    for d, _, names in os.walk(root):\n"
    "        for n in names:\n"
    "            path = os.path.join(d, n)\n"
    "            out['files'][os.path.relpath(path, root)] = open(path).read()\n"
    "open(os.environ['REPORT'], 'w').write(json.dumps(out))"
)


def test_env_volumes_and_mapped_paths(pod_env: PodEnv) -> None:
    pod_env.core.create_namespaced_secret(
        pod_env.namespace, {"metadata": {"name": "creds"}, "stringData": {"token": "s3cret", "user": "bot"}}
    )
    pod_env.core.create_namespaced_config_map(
        pod_env.namespace, {"metadata": {"name": "settings"}, "data": {"level": "debug", "mode": "fast"}}
    )
    container = python_container(
        "dump",
        DUMP,
        args=["/etc/creds", "/etc/settings", "/etc/podinfo"],
        workingDir="/scratch/repo",
        env=[
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {"name": "WORKSPACE", "value": "/scratch/repo"},
            {"name": "REPORT", "value": "/dev/termination-log"},
            {"name": "NOT_A_MOUNT", "value": "/workshop/x"},
        ],
        envFrom=[{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
        volumeMounts=[
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "creds", "mountPath": "/etc/creds"},
            {"name": "settings", "mountPath": "/etc/settings"},
            {"name": "podinfo", "mountPath": "/etc/podinfo"},
        ],
    )
    spec = {
        "restartPolicy": "Never",
        "volumes": [
            {"name": "scratch", "emptyDir": {}},
            {"name": "creds", "secret": {"secretName": "creds", "items": [{"key": "user", "path": "user.txt"}]}},
            {"name": "settings", "configMap": {"name": "settings"}},
            {
                "name": "podinfo",
                "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
            },
        ],
        "initContainers": [
            python_container(
                "mkrepo",
                "import os, sys; os.makedirs(sys.argv[1])",
                args=["/scratch/repo"],
                volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}],
            )
        ],
        "containers": [container],
    }
    pod_env.create_pod("configured", spec, labels={"app": "demo", "tier": "runner"})
    pod = pod_env.wait_phase("configured", "Succeeded", "Failed")
    terminated = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 0, terminated
    report = json.loads(terminated["message"])
    env = report["env"]
    assert (env["TOKEN"], env["LEVEL"], env["CFG_mode"]) == ("s3cret", "debug", "fast")
    assert (env["POD_NAME"], env["POD_NAMESPACE"], env["POD_UID"]) == (
        "configured",
        pod_env.namespace,
        pod["metadata"]["uid"],
    )
    pod_dir = next((pod_env.root / "pods").glob(f"{pod_env.namespace}_configured_*"))
    assert env["WORKSPACE"] == str(pod_dir / "volumes" / "scratch" / "repo")
    assert report["cwd"] == env["WORKSPACE"]
    assert env["NOT_A_MOUNT"] == "/workshop/x"
    assert report["argv"] == [str(pod_dir / "volumes" / name) for name in ("creds", "settings", "podinfo")]
    assert report["files"] == {
        "user.txt": "bot",
        "level": "debug",
        "mode": "fast",
        "labels": 'app="demo"\ntier="runner"',
    }
    # The process environment: PATH and LANG from the kubelet, per-pod HOME/TMPDIR, the container's env.
    assert "ATOMESH_HOST_ONLY" not in env
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["HOME"] == str(pod_dir / "home")
    assert env["HOSTNAME"] == "configured"
    # The kubelet's own reports never carry secret values (this container chose to print its env).
    assert all("s3cret" not in json.dumps(e) for e in pod_env.events("configured"))


def test_missing_secret_keeps_the_pod_pending_until_it_exists(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "containers": [
            python_container(
                "agent",
                "import os; assert os.environ['KEY'] == 'k-1'",
                env=[{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "model-key", "key": "apiKey"}}}],
            )
        ],
    }
    pod_env.create_pod("needs-secret", spec)
    event = pod_env.wait_event("needs-secret", "Failed")
    assert event["type"] == "Warning"
    assert 'secret "model-key" not found' in event["message"]
    pod = pod_env.wait_pod(
        "needs-secret",
        lambda p: "CreateContainerConfigError" in json.dumps(p["status"].get("containerStatuses")),
        "waiting on its configuration",
    )
    assert pod["status"]["phase"] == "Pending"
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "CreateContainerConfigError"
    assert 'secret "model-key" not found' in waiting["message"]
    pod_env.core.create_namespaced_secret(
        pod_env.namespace, {"metadata": {"name": "model-key"}, "stringData": {"apiKey": "k-1"}}
    )
    assert pod_env.wait_phase("needs-secret", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"


def test_missing_config_map_volume_is_a_failed_mount(pod_env: PodEnv) -> None:
    spec = {
        "restartPolicy": "Never",
        "volumes": [{"name": "run", "configMap": {"name": "run-file"}}],
        "containers": [python_container("c", "pass", volumeMounts=[{"name": "run", "mountPath": "/etc/run"}])],
    }
    pod_env.create_pod("no-run-file", spec)
    event = pod_env.wait_event("no-run-file", "FailedMount")
    assert event["message"] == 'MountVolume.SetUp failed for volume "run" : configmap "run-file" not found'
    assert pod_env.pod("no-run-file")["status"]["phase"] == "Pending"


def test_bad_command_fails_with_start_error(pod_env: PodEnv) -> None:
    spec = {"restartPolicy": "Never", "containers": [{"name": "c", "image": IMAGE, "command": ["no-such-program-x"]}]}
    pod_env.create_pod("bad-command", spec)
    status = pod_env.wait_phase("bad-command", "Succeeded", "Failed")["status"]
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (128, "StartError")
    assert "no-such-program-x" in terminated["message"]
    assert "no-such-program-x" in pod_env.wait_event("bad-command", "Failed")["message"]


def test_pods_of_other_images_are_left_alone(pod_env: PodEnv) -> None:
    pod_env.create_pod("nginx", {"containers": [{"name": "web", "image": "nginx:1.27"}]})
    pod_env.create_pod("ours", {"restartPolicy": "Never", "containers": [python_container("c", "pass")]})
    assert pod_env.wait_phase("ours", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"
    # Watch events arrive in order: once "ours" ran, "nginx" was seen and skipped.
    other = pod_env.pod("nginx")
    assert not other["spec"].get("nodeName")
    assert other["status"]["phase"] == "Pending"
    assert "containerStatuses" not in other["status"]
