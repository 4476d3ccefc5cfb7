"""A runner pod without Kubernetes: the env contract, the run file and the shared volume in tmp_path,
each step run as `python -m atomesh runner <step>` like the container's entrypoint does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
from tests.fixtures.anthropic import NODE_BIN
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.api import constants as k
from atomesh.api.runfile import RunFile

ACTOR = git.Actor("seed", "seed@example.com")
SEED_FILES = {
    "README.md": "hello\n",
    "docs/index.md": "# Docs\n",
    "src/app/__init__.py": "",
    "config/app.yaml": "replicas: 1\n",
}


def seed_bare_repo(bare: Path, files: dict[str, str], branch: str = "main") -> str:
    """A bare repository holding one commit of `files` on `branch`; returns the commit."""
    work = bare.parent / (bare.name + ".seed")
    repo = git.Repo.init(work, initial_branch=branch)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    repo.index.add(list(files))
    sha = repo.index.commit("seed", author=ACTOR, committer=ACTOR).hexsha
    git.Repo.init(bare, bare=True, initial_branch=branch)
    repo.create_remote("origin", str(bare)).push(f"{branch}:{branch}").raise_if_error()
    return sha


def commit_to(bare: Path, files: dict[str, str], message: str = "change", branch: str = "main") -> str:
    work = bare.parent / (bare.name + ".seed")
    repo = git.Repo(work)
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    repo.index.add(list(files))
    sha = repo.index.commit(message, author=ACTOR, committer=ACTOR).hexsha
    repo.remote("origin").push(f"{branch}:{branch}").raise_if_error()
    return sha


def branches(bare: Path) -> set[str]:
    return {ref.name for ref in git.Repo(bare).heads}


def agent_spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "purpose": "Keep the documentation friendly.",
        "instructions": "Improve the docs.",
        "output": {"artifact": "doc", "paths": ["docs/**", "README.md"]},
        "workspace": {"repo": "demo/app", "baseBranch": "main"},
        "harness": {"kind": "litellm", "model": "claude-sonnet-4-5", "maxTurns": 10},
        "limits": {"timeout": "2m"},
    }
    spec.update(overrides)
    return spec


def run_file(agent: str = "docs", run: str = "docs-1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "namespace": "team-a",
        "run": run,
        "runUid": "uid-1",
        "agent": agent,
        "agentRevision": "inline@sha256:abc",
        "specHash": "abc",
        "spec": agent_spec(),
        "input": {"topic": "greetings"},
        "trigger": {"kind": "manual", "source": "ada"},
        "branch": f"{k.BRANCH_PREFIX}/{agent}/{run}",
    }
    data.update(extra)
    RunFile.model_validate(data)  # fail early on a broken test fixture
    return data


@dataclass
class RunnerPod:
    """The shared volume and per-step environment of one runner pod, on the host."""

    root: Path
    forge_api_url: str | None = None
    forge_git_url: str | None = None
    forge_token: str | None = None
    model_base_url: str | None = None
    model_api_key: str | None = None

    def __post_init__(self) -> None:
        for sub in ("etc", "work/home", "work/tmp", "work/state", "termination"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @classmethod
    def on_github(cls, root: Path, github: GitHubEmulatorHandle, model_url: str, model_key: str) -> RunnerPod:
        """A pod whose forge is the GitHub emulator (as its bot) and whose model is at `model_url`."""
        return cls(
            root,
            forge_api_url=github.url,
            forge_git_url=github.git_url,
            forge_token=github.bot_token,
            model_base_url=model_url,
            model_api_key=model_key,
        )

    @property
    def workspace(self) -> Path:
        return self.root / "work" / "repo"

    @property
    def state(self) -> Path:
        return self.root / "work" / "state"

    def write_run_file(self, data: dict[str, Any]) -> None:
        (self.root / "etc" / k.RUN_FILE_NAME).write_text(json.dumps(data))

    def termination_path(self, step: str) -> Path:
        return self.root / "termination" / step

    def termination(self, step: str) -> str:
        path = self.termination_path(step)
        return path.read_text() if path.exists() else ""

    def env(self, step: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The container's environment: each step gets only its own credentials."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("ATOMESH_")}
        env.update(
            PATH=f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            HOME=str(self.root / "work" / "home"),
            TMPDIR=str(self.root / "work" / "tmp"),
        )
        env[k.ENV_RUN_FILE] = str(self.root / "etc" / k.RUN_FILE_NAME)
        env[k.ENV_WORKSPACE] = str(self.workspace)
        env[k.ENV_STATE_DIR] = str(self.state)
        env[k.ENV_TERMINATION_MESSAGE_PATH] = str(self.termination_path(step))
        if step in (k.RUNNER_CONTAINER_CHECKOUT, k.RUNNER_CONTAINER_PUBLISH):
            for name, value in (
                (k.ENV_FORGE_API_URL, self.forge_api_url),
                (k.ENV_FORGE_GIT_URL, self.forge_git_url),
                (k.ENV_FORGE_TOKEN, self.forge_token),
            ):
                if value:
                    env[name] = value
        if step == k.RUNNER_CONTAINER_AGENT:
            for name, value in ((k.ENV_MODEL_BASE_URL, self.model_base_url), (k.ENV_MODEL_API_KEY, self.model_api_key)):
                if value:
                    env[name] = value
        env.update(extra or {})
        return env

    def run(self, step: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "atomesh", "runner", step],
            env=self.env(step, extra_env),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=240,
        )
