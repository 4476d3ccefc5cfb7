"""Symbolic links and file modes through checkout → agent → publish against bare repositories on
disk: links out of bounds are refused before anything is pushed unless the Agent allows them, links
within bounds and executable bits are published and shown on the pull request."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, branches, run_file, seed_bare_repo

from atomesh.api.runfile import PublishSummary
from atomesh.forge.fake import FakeForge
from atomesh.runner.main import run_step

pytestmark = pytest.mark.integration


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    base = tmp_path / "git"
    seed_bare_repo(base / "demo" / "app.git", {"README.md": "hello\n", "docs/index.md": "# Docs\n", "src/a.py": ""})
    return base


def run_agent(tmp_path: Path, origin: Path, model: StartEmulator, commands: list[str], **output: object) -> RunnerPod:
    """A pod whose agent ran `commands` in its workspace, checked out and ready to publish."""
    turns: list[dict[str, object]] = [{"tools": [{"tool": "run", "input": {"command": cmd}}]} for cmd in commands]
    emulator = model([*turns, {"text": "Linked the docs."}])
    pod = RunnerPod(
        tmp_path / "pod", forge_git_url=f"file://{origin}", model_base_url=emulator.url, model_api_key="sk-ant-links"
    )
    spec = agent_spec(output={"artifact": "doc", "paths": ["docs/**", "README.md"], **output})
    pod.write_run_file(run_file(spec=spec))
    assert pod.run("checkout").returncode == 0
    agent = pod.run("agent")
    assert agent.returncode == 0, agent.stderr
    return pod


OUT_OF_BOUNDS = [
    "ln -s /etc/passwd docs/passwd",  # absolute
    "ln -s ../../.. docs/up",  # past the repository's root
    "ln -s ../src/a.py docs/code.py",  # inside the repository, outside output.paths
    "ln -s .. docs/root",  # the repository itself
    "ln -s ../.git/config docs/git-config",  # git's own files
    "ln -s /tmp docs/tmp && ln -s tmp/x docs/via",  # through another link
]


def test_links_out_of_bounds_fail_the_run_and_push_nothing(
    tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator
) -> None:
    pod = run_agent(tmp_path, origin, anthropic_emulator, [*OUT_OF_BOUNDS, "ln -s index.md docs/latest.md"])
    forge = FakeForge()
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 1
    message = pod.termination("publish")
    assert message.startswith("SymlinkOutOfBounds: 7 symbolic link(s) out of bounds: ")
    for refused in (
        "docs/passwd -> /etc/passwd (an absolute path, outside the repository)",
        "docs/up -> ../../.. (outside the repository)",
        "docs/code.py -> ../src/a.py (src/a.py, outside spec.output.paths)",
        "docs/root -> .. (the repository itself or its .git folder)",
        "docs/git-config -> ../.git/config (the repository itself or its .git folder)",
        "docs/tmp -> /tmp (an absolute path, outside the repository)",
        "docs/via -> tmp/x (outside the repository, through another link)",
    ):
        assert refused in message
    assert "docs/latest.md" not in message  # within bounds
    assert "allowOutOfBoundsSymlinks" in message
    assert branches(origin / "demo" / "app.git") == {"main"}
    assert forge.pulls == {}


def test_links_and_modes_within_bounds_are_published_and_shown(
    tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator
) -> None:
    commands = [
        "printf '# Guide\\n' > docs/guide.md && ln -s guide.md docs/latest.md",
        "printf '#!/bin/sh\\necho hi\\n' > docs/build.sh && chmod +x docs/build.sh docs/index.md",
    ]
    pod = run_agent(tmp_path, origin, anthropic_emulator, commands)
    forge = FakeForge()
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.outcome == "published"
    tree = git.Repo(origin / "demo" / "app.git").commit("atomesh/docs/docs-1").tree
    assert (tree["docs/latest.md"].mode, tree["docs/build.sh"].mode, tree["docs/index.md"].mode) == (
        0o120000,
        0o100755,
        0o100755,
    )
    body = forge.pull("demo/app", 1).request.body
    assert "### Links and file modes" in body
    assert "- `docs/latest.md`: symbolic link to `guide.md`" in body
    assert "- `docs/build.sh`: added as an executable" in body
    assert "- `docs/index.md`: executable bit set" in body
    assert "Links and file modes" in forge.check_runs[0].summary


def test_an_agent_that_allows_links_out_of_bounds_publishes_them_as_risks(
    tmp_path: Path, origin: Path, anthropic_emulator: StartEmulator
) -> None:
    pod = run_agent(
        tmp_path, origin, anthropic_emulator, ["ln -s /etc/hostname docs/host"], allowOutOfBoundsSymlinks=True
    )
    forge = FakeForge()
    assert run_step("publish", pod.env("publish"), forge_factory=lambda ctx: forge) == 0
    assert "- `docs/host`: symbolic link to `/etc/hostname`" in forge.pull("demo/app", 1).request.body
