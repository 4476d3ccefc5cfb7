"""The `build` step as its container runs it (`python -m atomesh runner build`): base and head of a site
built into the state directory without credentials, then publish renders the BUILT pages before and after
in headless Chromium and links them from the pull request on the GitHub emulator."""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import ACTOR, RunnerPod, agent_spec, run_file

from atomesh.api.runfile import PublishSummary
from atomesh.runner.site_output import read_result

pytestmark = [pytest.mark.integration]

# A site generator in miniature: the page is built from a source file, so base and head differ only once built.
BUILD_PY = """\
import os, pathlib, sys
title = pathlib.Path("src/title.txt").read_text().strip()
if title == "break":
    print("build.py: cannot build a page titled 'break'", os.environ.get("ATOMESH_FORGE_TOKEN", ""))
    sys.exit(3)
out = pathlib.Path("dist")
out.mkdir(exist_ok=True)
page = "<html><body style='margin:0'><h1 style='font-size:64px'>" + title + "</h1></body></html>"
(out / "index.html").write_text(page)
(out / "environment.txt").write_text("\\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
"""
FORGE_TOKEN = "ghs_sitebuildforgetoken0123456789"
MODEL_KEY = "sk-ant-sitebuild-model-key-0123456789"


def _pages(timeout: str = "1m") -> dict[str, object]:
    return {
        "root": "site",
        "routes": ["index.html"],
        "viewports": [{"name": "desktop", "width": 800, "height": 600}],
        "build": {"run": f"{sys.executable} build.py", "outputDir": "dist", "timeout": timeout},
    }


def _workspace(pod: RunnerPod, base_title: str, head_title: str) -> str:
    """The workspace as the agent step leaves it: a committed base, the agent's change in the working tree."""
    repo = git.Repo.init(pod.workspace, initial_branch="main")
    (pod.workspace / "site" / "src").mkdir(parents=True)
    (pod.workspace / "site" / "build.py").write_text(BUILD_PY)
    (pod.workspace / "site" / "src" / "title.txt").write_text(base_title)
    repo.index.add(["site/build.py", "site/src/title.txt"])
    base = repo.index.commit("site", author=ACTOR, committer=ACTOR).hexsha
    (pod.workspace / "site" / "src" / "title.txt").write_text(head_title)
    return base


def _local_pod(tmp_path: Path, timeout: str = "1m") -> RunnerPod:
    pod = RunnerPod(tmp_path / "pod")
    spec = agent_spec(output={"artifact": "visual", "paths": ["site/**"]}, review={"pages": _pages(timeout)})
    pod.write_run_file(run_file(agent="landing", run="landing-1", spec=spec))
    return pod


def test_the_build_step_builds_base_and_head_apart_and_its_command_sees_no_secret(tmp_path: Path) -> None:
    pod = _local_pod(tmp_path)
    base = _workspace(pod, "Ship it", "Ship faster")
    # Even when handed credentials by mistake, the build command's environment holds no ATOMESH_ variable.
    leaky = {"ATOMESH_FORGE_TOKEN": FORGE_TOKEN, "ATOMESH_MODEL_API_KEY": MODEL_KEY}
    result = pod.run("build", leaky)
    assert result.returncode == 0, result.stderr
    site = pod.state / "site"
    assert "Ship it</h1>" in (site / "base" / "index.html").read_text()
    assert "Ship faster</h1>" in (site / "head" / "index.html").read_text()
    for side in ("base", "head"):
        environment = (site / side / "environment.txt").read_text()
        assert FORGE_TOKEN not in environment
        assert MODEL_KEY not in environment
        assert not [line for line in environment.splitlines() if line.startswith("ATOMESH_")]
        assert "CI=true" in environment.splitlines()
    with git.Repo(pod.workspace) as repo:  # the workspace is as the agent left it: no build output, no worktree
        assert repo.git.status("--porcelain", "--untracked-files=all") == " M site/src/title.txt"
        assert repo.head.commit.hexsha == base
        assert len(repo.git.worktree("list").splitlines()) == 1
    assert not (pod.state / "site-src").exists()


def test_a_failing_build_passes_the_step_and_leaves_its_scrubbed_log_for_the_surface(tmp_path: Path) -> None:
    pod = _local_pod(tmp_path)
    _workspace(pod, "Ship it", "break")
    # A token handed to the step by mistake never reaches the build, so not its log either.
    result = pod.run("build", {"ATOMESH_FORGE_TOKEN": FORGE_TOKEN})
    assert result.returncode == 0, result.stderr
    base, head = read_result(pod.state, "base"), read_result(pod.state, "head")
    assert base is not None
    assert base.passed
    assert head is not None
    assert not head.passed
    assert head.exit_code == 3
    assert "cannot build a page titled 'break'" in head.output_tail
    assert FORGE_TOKEN not in head.output_tail
    assert not (pod.state / "site" / "head").exists()
    assert "the head build failed: exit 3" in result.stderr


def test_a_build_past_its_timeout_is_stopped_and_says_so(tmp_path: Path) -> None:
    pod = _local_pod(tmp_path, timeout="1s")
    _workspace(pod, "Ship it", "Ship faster")
    (pod.workspace / "site" / "build.py").write_text("import time\nprint('building', flush=True)\ntime.sleep(30)\n")
    result = pod.run("build")
    assert result.returncode == 0, result.stderr
    head = read_result(pod.state, "head")
    assert head is not None
    assert (head.passed, head.exit_code, head.problem) == (False, None, "stopped at its timeout of 1s")
    assert "building" in head.output_tail


@pytest.mark.slow
def test_publish_renders_the_built_pages_before_and_after(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    gh = github_emulator
    slug = gh.seed_sample_app()
    gh.push_branch(slug, "main", {"site/build.py": BUILD_PY, "site/src/title.txt": "Ship it"})
    model = anthropic_emulator(
        [
            {"tools": [{"tool": "write_file", "input": {"path": "site/src/title.txt", "content": "Ship faster"}}]},
            {"text": "Sharper headline."},
        ]
    )
    pod = RunnerPod.on_github(tmp_path / "pod", gh, model.url, MODEL_KEY)
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"},
        output={"artifact": "visual", "paths": ["site/**"]},
        review={"pages": _pages()},
    )
    pod.write_run_file(run_file(agent="landing", run="landing-1", spec=spec))
    for step in ("checkout", "agent", "build", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None
    assert summary.artifact is not None
    assert summary.artifact.files == ["site/src/title.txt"]  # the build's output is never part of the artifact

    body = gh.client(gh.bot_token).get_repo(slug).get_pull(summary.review.number).body
    assert "### Site build" in body
    assert "2 of 2 built." in body
    assert "| `index.html` | desktop |" in body
    (share,) = re.findall(r"([0-9.]+) % of pixels changed", body)
    assert float(share) > 0  # the built headline changed, though no HTML file in the repository did
    urls = sorted(set(re.findall(r'<img src="([^"]+)"', body)))
    assert len(urls) == 3
    for url in urls:
        with urllib.request.urlopen(url) as response:
            assert response.headers["Content-Type"] == "image/png"
