"""The three steps against the GitHub emulator over HTTP, with planted credentials that must not
appear in any log, termination message, state file, commit, pull request or check run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.fixtures.anthropic import StartEmulator, find_cli
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

from atomesh.api.runfile import PublishSummary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL_KEY = "sk-ant-PLANTED-model-key-5f1c0a9e"
CHANGE = [
    {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": "# Guide\n\nHi.\n"}}]},
    {"tools": [{"tool": "run", "input": {"command": "echo model=$ATOMESH_MODEL_API_KEY forge=$ATOMESH_FORGE_TOKEN"}}]},
    {"text": "Added a guide."},
]
# A check that tries its best to print credentials; its output reaches checks.json and the PR body.
NOSY_CHECK = {"name": "nosy", "run": "env | sort; cat /proc/$PPID/environ | tr '\\0' '\\n'; true"}


def harness_kinds() -> list[object]:
    return [
        "litellm",
        pytest.param("claude-code", marks=pytest.mark.skipif(not find_cli("claude"), reason="claude not installed")),
        pytest.param("opencode", marks=pytest.mark.skipif(not find_cli("opencode"), reason="opencode not installed")),
    ]


def texts_under(root: Path) -> dict[Path, str]:
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found[path] = path.read_bytes().decode("utf-8", errors="replace")
    return found


@pytest.mark.parametrize("kind", harness_kinds())
def test_pull_request_without_any_credential(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator, kind: str
) -> None:
    forge_token = github_emulator.bot_token
    assert len(forge_token) >= 8
    slug = github_emulator.seed_sample_app()
    model = anthropic_emulator(CHANGE)
    pod = RunnerPod.on_github(tmp_path / "pod", github_emulator, model.url, MODEL_KEY)
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"},
        harness={"kind": kind, "model": "claude-sonnet-4-5", "maxTurns": 10},
        review={"checks": [NOSY_CHECK], "reviewers": [github_emulator.reviewer]},
    )
    pod.write_run_file(run_file(spec=spec))

    outputs = []
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        outputs.append(result.stdout + result.stderr)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.outcome == "published"
    assert summary.review is not None
    assert summary.review.number is not None
    assert summary.artifact is not None
    assert summary.artifact.files == ["docs/guide.md"]

    gh = github_emulator.client(github_emulator.reviewer_token).get_repo(slug)
    pull = gh.get_pull(summary.review.number)
    assert pull.head.ref == "atomesh/docs/docs-1"
    assert pull.base.ref == "main"
    commit = gh.get_commit(summary.artifact.commit or "")
    assert "Atomesh-Harness: " + kind in commit.commit.message
    check_runs = list(commit.get_check_runs())
    assert check_runs

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", github_emulator.clone_url(slug, forge_token), str(clone)], check=True)
    history = subprocess.run(
        ["git", "log", "-p", "--all"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout

    public = [
        *outputs,
        *(pod.termination(step) for step in ("checkout", "agent", "publish")),
        *texts_under(pod.root).values(),  # state files, workspace (.git/config included), home, tmp
        history,
        pull.title,
        pull.body or "",
        *(c.output.title or "" for c in check_runs),
        *(c.output.summary or "" for c in check_runs),
        *(str(r.headers) + json.dumps(r.body) for r in model.requests),
    ]
    # The check read the agent step's own environment; the key was masked on the way out.
    assert "ATOMESH_MODEL_API_KEY=***" in (pod.state / "checks.json").read_text()
    assert "nosy" in (pull.body or "") + "".join(c.output.summary or "" for c in check_runs)  # the check was shown
    for secret in (MODEL_KEY, forge_token):
        leaks = [text[max(text.find(secret) - 80, 0) :][:160] for text in public if secret in text]
        assert leaks == [], f"a planted credential leaked: {leaks}"
    # The workspace's remote is the plain URL: the token never reached .git/config.
    assert forge_token not in (pod.workspace / ".git" / "config").read_text()


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("claude-code", marks=pytest.mark.skipif(not find_cli("claude"), reason="claude not installed")),
        pytest.param("opencode", marks=pytest.mark.skipif(not find_cli("opencode"), reason="opencode not installed")),
    ],
)
def test_an_agent_that_writes_its_key_into_the_artifact_is_stopped(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator, kind: str
) -> None:
    """A CLI's shell inherits the model key it needs; the agent step refuses a change that contains it."""
    slug = github_emulator.seed_sample_app()
    model = anthropic_emulator(
        [{"tools": [{"tool": "run", "input": {"command": "env > docs/env.txt"}}]}, {"text": "Dumped."}]
    )
    pod = RunnerPod.on_github(tmp_path / "pod", github_emulator, model.url, MODEL_KEY)
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"}, harness={"kind": kind, "model": "claude-sonnet-4-5"}
    )
    pod.write_run_file(run_file(spec=spec))
    assert pod.run("checkout").returncode == 0
    result = pod.run("agent")
    assert result.returncode == 1
    assert pod.termination("agent").startswith("CredentialInArtifact: the agent wrote a credential into docs/env.txt")
    assert MODEL_KEY not in result.stderr + pod.termination("agent")


def test_publish_ignores_git_config_and_hooks_the_agent_planted(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle
) -> None:
    """The agent step can write anywhere on the shared volume, .git and $HOME included; nothing it
    plants there may run in publish (which holds the forge token) or redirect the push."""
    slug = github_emulator.seed_sample_app()
    pod = RunnerPod.on_github(tmp_path / "pod", github_emulator, "http://127.0.0.1:9", MODEL_KEY)
    spec = agent_spec(workspace={"repo": slug, "baseBranch": "main"})
    pod.write_run_file(run_file(spec=spec))
    assert pod.run("checkout").returncode == 0

    # What a hostile agent could leave behind instead of (or besides) its change.
    (pod.workspace / "docs" / "guide.md").write_text("# Guide\n")
    stolen = tmp_path / "stolen"
    steal = f"#!/bin/sh\nenv >> {stolen}\nexit 0\n"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for name in ("pre-push", "pre-commit", "post-commit", "reference-transaction"):
        for folder in (pod.workspace / ".git" / "hooks", hooks):
            (folder / name).write_text(steal)
            (folder / name).chmod(0o755)
    decoy = tmp_path / "decoy.git"
    subprocess.run(["git", "init", "-q", "--bare", str(decoy)], check=True)
    for key, value in (
        ("core.fsmonitor", str(hooks / "pre-push")),
        ("remote.origin.pushurl", str(decoy)),
        ("core.hooksPath", str(hooks)),
    ):
        subprocess.run(["git", "config", key, value], cwd=pod.workspace, check=True)
    (pod.root / "work" / "home" / ".gitconfig").write_text(
        f"[core]\n\thooksPath = {hooks}\n\tfsmonitor = {hooks / 'pre-push'}\n"
    )

    result = pod.run("publish")
    assert result.returncode == 0, result.stderr
    assert not stolen.exists(), "a planted hook or fsmonitor ran in publish"
    assert subprocess.run(["git", "branch"], cwd=decoy, capture_output=True, text=True).stdout == ""
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None
    assert summary.review.number is not None
    assert summary.artifact is not None
    assert summary.artifact.files == ["docs/guide.md"]
