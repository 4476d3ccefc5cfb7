"""The operator's runner pod with a site build, run by the local kubelet: checkout → agent → build →
publish; the build container's command sees no credential, and the operator's planner reads four steps."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import agent_spec
from tests.integration.runner.test_runner_pod import namespace, secret, wait_finished

from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRun, AgentRunStatus, AgentSnapshot
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import build_runner_pod, run_file_json, runner_pod_name
from atomesh.core.runphase import observe_pod, plan_from_pod
from atomesh.devstack.kube import set_log_source
from atomesh.devstack.kubelet import BackgroundKubelet, KubeletConfig
from atomesh.devstack.kubelet.logsource import HttpLogSource

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["namespace"]  # the fixture, shared with the pod test

MODEL_KEY = "sk-ant-PLANTED-build-key-5d21aa"
# Prints the names of the variables it sees (its log is the build container's), then builds the page.
BUILD_PY = """\
import os, pathlib
print("variables:", " ".join(sorted(os.environ)))
print("values:", " ".join(sorted(os.environ.values())))
pathlib.Path("dist").mkdir(exist_ok=True)
title = pathlib.Path("title.txt").read_text().strip()
pathlib.Path("dist/index.html").write_text("<h1 style='font-size:64px'>" + title + "</h1>")
"""
CHANGE = [
    {"tools": [{"tool": "write_file", "input": {"path": "site/title.txt", "content": "Ship faster"}}]},
    {"text": "Sharper headline."},
]


def test_the_build_container_runs_between_agent_and_publish_without_credentials(
    tmp_path: Path,
    kube_api: Any,
    namespace: tuple[client.CoreV1Api, str],
    github_emulator: GitHubEmulatorHandle,
    anthropic_emulator: StartEmulator,
) -> None:
    core, ns = namespace
    gh = github_emulator
    slug = gh.seed_sample_app()
    gh.push_branch(slug, "main", {"site/build.py": BUILD_PY, "site/title.txt": "Ship it"})
    model = anthropic_emulator(CHANGE)
    core.create_namespaced_secret(ns, secret("atomesh-forge", "token", gh.bot_token))
    core.create_namespaced_secret(ns, secret("atomesh-model", "api-key", MODEL_KEY))
    pages = {
        "root": "site",
        "routes": ["index.html"],
        "viewports": [{"name": "desktop", "width": 640, "height": 400}],
        "build": {"run": f"{sys.executable} build.py", "outputDir": "dist", "timeout": "1m"},
    }
    spec = AgentSpec.model_validate(
        agent_spec(
            workspace={"repo": slug, "baseBranch": "main"},
            output={"artifact": "visual", "paths": ["site/**"]},
            review={"pages": pages},
        )
    )
    run = AgentRun.model_validate(
        {"metadata": {"name": "site-3", "namespace": ns, "uid": "uid-3"}, "spec": {"agentRef": {"name": "site"}}}
    )
    snapshot = AgentSnapshot(name="site", revision="inline@sha256:0a0a", spec_hash="0a0a", spec=spec)
    operator = OperatorConfig(
        runner_image="ghcr.io/atomesh/atomesh:test",
        forge_api_url=gh.url,
        forge_git_url=gh.git_url,
        model_base_url=model.url,
    )
    kubelet_config = KubeletConfig(server=kube_api.url, root_dir=tmp_path / "kubelet", namespace=ns, retry_interval=0.2)
    name = runner_pod_name("site-3")
    with BackgroundKubelet(kubelet_config) as kubelet:
        set_log_source(kube_api.app, HttpLogSource(kubelet.url))
        try:
            core.create_namespaced_pod(ns, build_runner_pod(run, snapshot, operator, run_file_json(run, snapshot)))
            pod = wait_finished(core, ns, name)
            assert pod["status"]["phase"] == "Succeeded", pod["status"]
            build_log = core.read_namespaced_pod_log(name, ns, container="build")
        finally:
            set_log_source(kube_api.app, None)

    variables = next(line for line in build_log.splitlines() if line.startswith("variables:")).split()[1:]
    assert "HOME" in variables
    assert not [variable for variable in variables if variable.startswith("ATOMESH_")]
    assert MODEL_KEY not in build_log
    assert gh.bot_token not in build_log
    assert "the head site is built" in build_log

    status = AgentRunStatus(phase="Running", pod_name=name)
    result = plan_from_pod(status, cancel=False, pod=observe_pod(pod), now="2026-01-01T00:00:00Z").status
    assert result.phase == "AwaitingReview", result.message
    assert [step.name for step in result.steps] == ["checkout", "agent", "build", "publish"]
    assert result.review is not None
    body = gh.client(gh.bot_token).get_repo(slug).get_pull(result.review.number or 0).body or ""
    assert "2 of 2 built." in body
    assert "| `index.html` | desktop |" in body
