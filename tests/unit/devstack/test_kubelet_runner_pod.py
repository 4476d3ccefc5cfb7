"""The runner pod the operator builds (the golden manifest) plans into local processes that
honour the runner-pod contract: `atomesh runner STEP`, every pod path mapped to the host."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from atomesh.api import constants as k
from atomesh.devstack.kubelet.config import KubeletConfig, handles_pod
from atomesh.devstack.kubelet.layout import PodLayout
from atomesh.devstack.kubelet.plan import build_container_plan
from atomesh.devstack.kubelet.volumes import collect_references

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "runner_pod.yaml"
HOST = Path("/host/kubelet")


def runner_pod() -> dict[str, Any]:
    pod: dict[str, Any] = yaml.safe_load(GOLDEN.read_text())
    pod["metadata"].setdefault("uid", "u-1")
    return pod


def test_runner_pod_plans_into_atomesh_runner_steps_with_mapped_paths() -> None:
    pod = runner_pod()
    config = KubeletConfig(server="http://127.0.0.1:1", root_dir=HOST, host_env={"PATH": "/bin", "GH_TOKEN": "x"})
    assert handles_pod(config, pod)
    resources = {ref: {"token": b"t", "api-key": b"m", k.RUN_FILE_NAME: b"{}"} for ref in collect_references(pod)}
    layout = PodLayout.for_pod(HOST, pod["metadata"]["namespace"], pod["metadata"]["name"], "u-1")
    work = layout.volume(next(v["name"] for v in pod["spec"]["volumes"] if "emptyDir" in v))
    steps = [(c, True) for c in pod["spec"]["initContainers"]] + [(c, False) for c in pod["spec"]["containers"]]
    assert [c["name"] for c, _ in steps] == ["checkout", k.RUNNER_CONTAINER_MODEL_PROXY, "agent", "publish"]
    proxy_dir = str(layout.volume("model-proxy"))
    for container, init in steps:
        plan = build_container_plan(config, pod, container, init=init, layout=layout, resources=resources)
        if container["name"] == k.RUNNER_CONTAINER_MODEL_PROXY:
            assert plan.argv == (sys.executable, "-m", "atomesh", "model-proxy")
            assert plan.env[k.ENV_MODEL_API_KEY] == "m"
            assert plan.env[k.ENV_MODEL_PROXY_DIR] == proxy_dir
            assert k.ENV_FORGE_TOKEN not in plan.env
            continue
        assert plan.argv == (sys.executable, "-m", "atomesh", "runner", container["name"])
        env = plan.env
        assert env[k.ENV_WORKSPACE] == str(work / "repo")
        assert env[k.ENV_STATE_DIR] == str(work / "state")
        assert Path(env[k.ENV_RUN_FILE]).parent.parent == layout.root / "volumes"
        assert env[k.ENV_TERMINATION_MESSAGE_PATH] == str(plan.termination_path)
        assert env["HOME"].startswith(str(work))
        assert "GH_TOKEN" not in env
        # Credentials are separated per step, and the local kubelet keeps it that way.
        assert (k.ENV_FORGE_TOKEN in env) == (container["name"] != k.RUNNER_CONTAINER_AGENT)
        assert k.ENV_MODEL_API_KEY not in env
        assert (env.get(k.ENV_MODEL_PROXY_DIR) == proxy_dir) == (container["name"] == k.RUNNER_CONTAINER_AGENT)
