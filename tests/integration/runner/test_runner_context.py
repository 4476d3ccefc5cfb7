"""The runner materialises a run's pinned contexts and each harness CLI receives them: a git context at its
pinned commit (only its folder, read-only, outside the workspace), a ConfigMap context checked against
its pinned digest, size limits enforced with a clear reason."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file, seed_bare_repo

from atomesh.core.context import content_digest

pytestmark = pytest.mark.integration

RULE = "HANDBOOK-RULE-3b: write in plain English."
ELSEWHERE = "NOT-IN-THE-CONTEXT-FOLDER"


def git_context(commit: str, max_bytes: int = 10_000) -> dict[str, Any]:
    return {
        "name": "handbook",
        "kind": "git",
        "revision": f"main@sha1:{commit}",
        "repo": "acme/handbook",
        "path": "style",
        "commit": commit,
        "maxBytes": max_bytes,
    }


def pod_with_git_context(tmp_path: Path, model_url: str, harness: str, max_bytes: int = 10_000) -> RunnerPod:
    origin = tmp_path / "git"
    seed_bare_repo(origin / "demo" / "app.git", {"README.md": "hello\n"})
    commit = seed_bare_repo(origin / "acme" / "handbook.git", {"style/guide.md": RULE, "README.md": ELSEWHERE})
    pod = RunnerPod(
        tmp_path / "pod", forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="sk-ant-ctx"
    )
    spec = agent_spec(harness={"kind": harness, "model": "claude-sonnet-4-5", "maxTurns": 5})
    pod.write_run_file(run_file(spec=spec, contexts=[git_context(commit, max_bytes)]))
    return pod


@pytest.mark.parametrize("harness", ["litellm", "claude-code", "opencode"])
def test_a_git_context_reaches_each_harness(tmp_path: Path, anthropic_emulator: StartEmulator, harness: str) -> None:
    emulator = anthropic_emulator([{"text": "Nothing to change."}])
    pod = pod_with_git_context(tmp_path, emulator.url, harness)
    checkout = pod.run("checkout")
    assert checkout.returncode == 0, checkout.stderr
    folder = pod.state / "contexts" / "handbook"
    assert (folder / "guide.md").read_text() == RULE
    assert not (folder / "README.md").exists(), "only the context's folder (spec.git.path) is materialised"
    assert not folder.is_relative_to(pod.workspace)
    assert not (folder / "guide.md").stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)

    agent = pod.run("agent")
    assert agent.returncode == 0, agent.stderr
    systems = [str(r.body.get("system", "")) for r in emulator.requests]
    assert any(RULE in system for system in systems), f"{harness}: the context did not reach the model"
    assert not any(ELSEWHERE in system for system in systems)


def test_a_git_context_over_its_limit_fails_the_run(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"text": "unused"}])
    pod = pod_with_git_context(tmp_path, emulator.url, "litellm", max_bytes=10)
    checkout = pod.run("checkout")
    assert checkout.returncode == 1
    message = pod.termination("checkout")
    assert message.startswith("ContextTooLarge: Context 'handbook'")
    assert f"holds {len(RULE)} bytes" in message
    assert "maxBytes=10" in message


def configmap_pod(tmp_path: Path, model_url: str, digest: str) -> tuple[RunnerPod, Path]:
    origin = tmp_path / "git"
    seed_bare_repo(origin / "demo" / "app.git", {"README.md": "hello\n"})
    pod = RunnerPod(
        tmp_path / "pod", forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="sk-ant-ctx"
    )
    version = {
        "name": "glossary",
        "kind": "configMap",
        "revision": f"glossary@{digest}",
        "configMap": "glossary",
        "digest": digest,
        "files": ["terms.md"],
    }
    pod.write_run_file(run_file(contexts=[version]))
    mount = tmp_path / "mount"
    (mount / "glossary").mkdir(parents=True)
    (mount / "glossary" / "terms.md").write_text("SLA: service level agreement")
    assert pod.run("checkout").returncode == 0
    return pod, mount


def test_a_configmap_context_is_read_when_its_digest_matches(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"text": "Nothing to change."}])
    digest = content_digest({"terms.md": b"SLA: service level agreement"})
    pod, mount = configmap_pod(tmp_path, emulator.url, digest)
    agent = pod.run("agent", {"ATOMESH_CONTEXT_DIR": str(mount)})
    assert agent.returncode == 0, agent.stderr
    assert any("SLA: service level agreement" in str(r.body.get("system")) for r in emulator.requests)


def test_a_changed_configmap_context_fails_the_run(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"text": "unused"}])
    pod, mount = configmap_pod(tmp_path, emulator.url, content_digest({"terms.md": b"an older text"}))
    agent = pod.run("agent", {"ATOMESH_CONTEXT_DIR": str(mount)})
    assert agent.returncode == 1
    assert pod.termination("agent").startswith("ContextChanged: ConfigMap 'glossary' of Context 'glossary' changed")
    assert emulator.requests == []
