"""The operator's runner pod, run by the local kubelet: checkout → agent → publish as init and main
containers, against the GitHub and Anthropic emulators; the operator's planner reads the result."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import agent_spec

from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRun, AgentRunStatus, AgentSnapshot
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import build_run_configmap, build_runner_pod, runner_pod_name
from atomesh.core.runphase import observe_pod, plan_from_pod
from atomesh.devstack.kube import set_log_source
from atomesh.devstack.kubelet import BackgroundKubelet, KubeletConfig
from atomesh.devstack.kubelet.logsource import HttpLogSource

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL_KEY = "sk-ant-PLANTED-pod-key-93be11"
IMAGE = "ghcr.io/atomesh/atomesh:test"
CHANGE = [
    {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": "# Guide\n\nHello.\n"}}]},
    {"tools": [{"tool": "run", "input": {"command": "ls docs"}}]},
    {"text": "Added a guide.", "usage": {"input_tokens": 300, "output_tokens": 30}},
]


@pytest.fixture
def namespace(kube_api: Any) -> Iterator[tuple[client.CoreV1Api, str]]:
    api_client = config.new_client_from_config(config_file=str(kube_api.kubeconfig))
    core = client.CoreV1Api(api_client)
    name = f"runner-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield core, name
    finally:
        core.delete_namespace(name)
        api_client.close()


def secret(name: str, key: str, value: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "data": {key: base64.b64encode(value.encode()).decode()}}


def wait_finished(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        pod: dict[str, Any] = core.api_client.sanitize_for_serialization(core.read_namespaced_pod(name, namespace))
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return pod
        if time.monotonic() > deadline:
            pytest.fail(f"pod {name} did not finish; status: {pod.get('status')}")
        time.sleep(0.2)


def test_runner_pod_on_the_local_kubelet(
    tmp_path: Path,
    kube_api: Any,
    namespace: tuple[client.CoreV1Api, str],
    github_emulator: GitHubEmulatorHandle,
    anthropic_emulator: StartEmulator,
) -> None:
    core, ns = namespace
    slug = github_emulator.seed_sample_app()
    model = anthropic_emulator(CHANGE)
    core.create_namespaced_secret(ns, secret("atomesh-forge", "token", github_emulator.bot_token))
    core.create_namespaced_secret(ns, secret("atomesh-model", "api-key", MODEL_KEY))
    spec = AgentSpec.model_validate(
        agent_spec(
            workspace={"repo": slug, "baseBranch": "main"},
            review={"checks": [{"name": "guide", "run": "test -f docs/guide.md"}]},
        )
    )
    run = AgentRun.model_validate(
        {
            "metadata": {"name": "docs-7", "namespace": ns, "uid": "uid-7"},
            "spec": {"agentRef": {"name": "docs"}, "input": {"topic": "guides"}},
        }
    )
    snapshot = AgentSnapshot(name="docs", revision="inline@sha256:0f0f", spec_hash="0f0f", spec=spec)
    operator = OperatorConfig(
        runner_image=IMAGE,
        forge_api_url=github_emulator.url,
        forge_git_url=github_emulator.git_url,
        model_base_url=model.url,
    )
    kubelet_config = KubeletConfig(server=kube_api.url, root_dir=tmp_path / "kubelet", namespace=ns, retry_interval=0.2)
    with BackgroundKubelet(kubelet_config) as kubelet:
        set_log_source(kube_api.app, HttpLogSource(kubelet.url))  # pods/log, as a node would serve it
        core.create_namespaced_config_map(ns, build_run_configmap(run, snapshot))
        core.create_namespaced_pod(ns, build_runner_pod(run, snapshot, operator))
        pod = wait_finished(core, ns, runner_pod_name("docs-7"))
        assert pod["status"]["phase"] == "Succeeded", pod["status"]
        try:
            logs = {
                step: core.read_namespaced_pod_log(runner_pod_name("docs-7"), ns, container=step)
                for step in ("checkout", "agent", "publish")
            }
        finally:
            set_log_source(kube_api.app, None)

    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    status = AgentRunStatus(phase="Running", pod_name=runner_pod_name("docs-7"))
    plan = plan_from_pod(status, cancel=False, pod=observe_pod(pod), now="2025-01-01T00:00:00Z")
    result = plan.status
    assert result.phase == "AwaitingReview", result.message
    assert result.review is not None
    assert result.review.repo == slug
    assert result.artifact is not None
    assert result.artifact.branch == "atomesh/docs/docs-7"
    assert result.artifact.files == ["docs/guide.md"]
    assert result.usage is not None
    assert result.usage.turns == 3
    repo = github_emulator.client(github_emulator.reviewer_token).get_repo(slug)
    pull = repo.get_pull(result.review.number or 0)
    assert pull.head.ref == "atomesh/docs/docs-7"
    assert pull.head.sha == result.artifact.commit
    assert f"Atomesh-Run: {ns}/docs-7" in repo.get_commit(result.artifact.commit or "").commit.message
    for text in (*logs.values(), pull.body or ""):
        assert MODEL_KEY not in text
        assert github_emulator.bot_token not in text
    assert "pushed atomesh/docs/docs-7" in logs["publish"]
