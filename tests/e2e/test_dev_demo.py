"""`atomesh dev --demo` as a user runs it: a real subprocess starts the whole stack (Kubernetes API
emulator, local kubelet, GitHub and model emulators, the operator), runs the example agent
issue-triage on the scripted model with each harness, merges its pull request as the reviewer
and exits 0 once the run is Succeeded, leaving no process or temporary directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fixtures.anthropic import NODE_BIN, find_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCESS_SECONDS = 240.0  # the demo gives up by itself after --timeout 150; this only guards the test

# What the demo prints, in this order, for a run that goes all the way.
STEPS = (
    "applied Agent issue-triage (harness {harness}, repository demo/sample-app)",
    "Agent issue-triage is Ready",
    "created AgentRun issue-triage-",
    "pod issue-triage-",
    "step checkout done",
    "step agent done",
    "step publish done",
    ": AwaitingReview, pull request http://127.0.0.1:",
    "doc artifact: docs/triage/issue-1.md",
    "reviewer merged pull request #1 through the GitHub API",
    ": Succeeded, merged by reviewer",
    "done in ",
)


def harness_param(kind: str, cli: str) -> object:
    return pytest.param(kind, marks=pytest.mark.skipif(not find_cli(cli), reason=f"{cli} not installed"))


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The user's environment, the pinned harness CLIs on PATH, temporary files under tmp_path."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ATOMESH_", "ANTHROPIC_"))}
    env.update(PATH=f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", TMPDIR=str(tmp_path / "tmp"))
    return env


def demo_command(*args: str) -> list[str]:
    """As a user types it; the kubeconfig and pod directories go to .atomesh/ under the cwd."""
    return [
        sys.executable,
        "-m",
        "atomesh",
        "dev",
        "--demo",
        "--agents",
        str(REPO_ROOT / "agents"),
        "--timeout",
        "150",
        *args,
    ]


@contextmanager
def demo_process(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """The demo in its own process group, killed with the group if the test ends early."""
    process = subprocess.Popen(
        demo_command(*args),
        cwd=tmp_path,
        env=env or demo_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout:
            process.stdout.close()


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def assert_in_order(output: str, expected: list[str]) -> None:
    position = 0
    for step in expected:
        found = output.find(step, position)
        assert found >= 0, f"missing (after position {position}): {step!r}\n{output}"
        position = found + len(step)


@pytest.mark.parametrize(
    "harness", ["litellm", harness_param("claude-code", "claude"), harness_param("opencode", "opencode")]
)
def test_demo_runs_the_whole_loop(tmp_path: Path, harness: str) -> None:
    with demo_process(tmp_path, "--harness", harness) as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 0, output
    demo_lines = "\n".join(line for line in output.splitlines() if line.startswith("demo "))
    assert_in_order(demo_lines, [step.format(harness=harness) for step in STEPS])
    assert "FAILED" not in output
    for component in ("kube ", "kubelet ", "github ", "model ", "operator "):
        assert any(line.startswith(component) for line in output.splitlines()), output
    # Tokens of the bot and the reviewer, and the model key, never reach the terminal.
    for secret_prefix in ("ghp_", "sk-ant-"):
        assert secret_prefix not in output
    assert group_gone(process.pid)
    assert (tmp_path / ".atomesh" / "kubeconfig").is_file()
    assert not list((tmp_path / "tmp").glob("atomesh-github-*")), "the GitHub emulator's directory was left behind"


def test_sigterm_during_the_demo_stops_everything(tmp_path: Path) -> None:
    with demo_process(tmp_path, "--harness", "litellm") as process:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if "created AgentRun" in line:
                break
        assert seen, "atomesh dev printed nothing"
        assert "created AgentRun" in seen[-1], "".join(seen)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=PROCESS_SECONDS)
    output = "".join(seen) + rest
    assert process.returncode == 130, output
    assert "demo       interrupted" in output
    assert "stopping" in output
    assert group_gone(process.pid)


def test_a_missing_harness_cli_is_reported_before_anything_starts(tmp_path: Path) -> None:
    env = demo_env(tmp_path)
    env["PATH"] = str(Path(sys.executable).parent)  # the interpreter, no Node.js CLIs
    with demo_process(tmp_path, "--harness", "claude-code", env=env) as process:
        output, _ = process.communicate(timeout=PROCESS_SECONDS)
    assert process.returncode == 2, output
    assert "--harness claude-code needs the `claude` CLI on PATH" in output
    assert not (tmp_path / ".atomesh").exists()
