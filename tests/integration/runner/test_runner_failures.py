"""The agent step fails with a clear reason for each way a harness can go wrong."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file, seed_bare_repo

from atomesh.api.agentrun import Usage
from atomesh.api.runfile import split_usage

pytestmark = pytest.mark.integration

FOREVER = {"tools": [{"tool": "run", "input": {"command": "echo again"}}], "times": 0}


def prepared_pod(tmp_path: Path, model_url: str, **spec: Any) -> RunnerPod:
    origin = tmp_path / "git"
    seed_bare_repo(origin / "demo" / "app.git", {"README.md": "hello\n"})
    pod = RunnerPod(
        tmp_path / "pod", forge_git_url=f"file://{origin}", model_base_url=model_url, model_api_key="sk-ant-fail"
    )
    pod.write_run_file(run_file(spec=agent_spec(**spec)))
    assert pod.run("checkout").returncode == 0
    return pod


@pytest.mark.parametrize(
    ("cassette", "spec", "reason", "detail"),
    [
        (
            [FOREVER],
            {"harness": {"kind": "litellm", "model": "claude-sonnet-4-5", "maxTurns": 2}},
            "MaxTurnsReached",
            "harness.maxTurns=2",
        ),
        (
            [{"tools": [{"tool": "run", "input": {"command": "sleep 300"}}]}],
            {"limits": {"timeout": "3s"}},
            "Timeout",
            "limits.timeout (3s)",
        ),
        ([{"error": 429, "times": 0, "retryAfter": 0}], {}, "ModelError", "RateLimitError"),
    ],
    ids=["max-turns", "timeout", "429-storm"],
)
def test_limit_and_model_failures(
    tmp_path: Path,
    anthropic_emulator: StartEmulator,
    cassette: list[dict[str, Any]],
    spec: dict[str, Any],
    reason: str,
    detail: str,
) -> None:
    emulator = anthropic_emulator(cassette)
    pod = prepared_pod(tmp_path, emulator.url, **spec)
    result = pod.run("agent")
    assert result.returncode == 1
    message = pod.termination("agent")
    assert message.startswith(f"{reason}: ")
    assert detail in message
    assert f"atomesh runner agent: {reason}: " in result.stderr
    # Usage is recorded even for a failed run, so its spend is known.
    usage = Usage.model_validate_json((pod.state / "usage.json").read_text())
    assert usage.turns == sum(1 for r in emulator.requests if r.status == 200)
    # ... and reported with the failure, so the run's status (and its budgets) count it.
    assert split_usage(message) == (message.rpartition("\nusage: ")[0], usage)


@pytest.mark.parametrize(
    ("cassette", "spec", "reason", "detail"),
    [
        (
            [FOREVER | {"usage": {"input_tokens": 50_000, "output_tokens": 10}}],
            {"limits": {"timeout": "2m", "maxCostUSD": 0.2}},
            "BudgetExceeded",
            "limits.maxCostUSD=$0.2",
        ),
        (
            # A model no price table knows (the emulator's own) costs what the Agent declares, so its limit holds.
            [FOREVER | {"usage": {"input_tokens": 10_000, "output_tokens": 10}}],
            {
                "harness": {
                    "kind": "litellm",
                    "model": "emulator-small",
                    "maxTurns": 10,
                    "price": {"inputUSDPerMTok": 10, "outputUSDPerMTok": 50},
                },
                "limits": {"timeout": "2m", "maxCostUSD": 0.25},
            },
            "BudgetExceeded",
            "limits.maxCostUSD=$0.25",
        ),
        ([FOREVER], {"limits": {"timeout": "2m", "maxTokens": 1500}}, "TokensExceeded", "limits.maxTokens=1500"),
    ],
    ids=["budget", "declared-price", "tokens"],
)
def test_a_limit_reached_pauses_instead_of_failing(
    tmp_path: Path,
    anthropic_emulator: StartEmulator,
    cassette: list[dict[str, Any]],
    spec: dict[str, Any],
    reason: str,
    detail: str,
) -> None:
    """Cost and token limits pause the run: the step ends 0 with `paused.json`, so publish keeps its session."""
    emulator = anthropic_emulator(cassette)
    pod = prepared_pod(tmp_path, emulator.url, **spec)
    result = pod.run("agent")
    assert result.returncode == 0, result.stderr
    paused = json.loads((pod.state / "paused.json").read_text())
    assert paused["reason"] == reason
    assert detail in paused["message"]
    assert f"paused ({reason})" in result.stderr
    usage = Usage.model_validate_json((pod.state / "usage.json").read_text())
    assert usage.turns == sum(1 for r in emulator.requests if r.status == 200)
    assert not (pod.state / "checks.json").exists()  # no checks on work that is not done


def test_harness_crash(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    """A harness binary that dies without its result message (here: a stand-in `claude` that segfaults)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    crashing = bin_dir / "claude"
    crashing.write_text('#!/bin/sh\necho "Segmentation fault (core dumped)" >&2\nexit 139\n')
    crashing.chmod(crashing.stat().st_mode | stat.S_IXUSR)
    emulator = anthropic_emulator([{"text": "unused"}])
    pod = prepared_pod(tmp_path, emulator.url, harness={"kind": "claude-code", "model": "claude-sonnet-4-5"})
    env = pod.env("agent")
    result = pod.run("agent", {"PATH": f"{bin_dir}:{env['PATH']}"})
    assert result.returncode == 1
    message = pod.termination("agent")
    assert message.startswith("HarnessCrashed: claude exited with code 139")
    assert "Segmentation fault" in message
    assert json.loads((pod.state / "usage.json").read_text())["turns"] == 0
