"""The real Claude Code CLI, driven through the Anthropic emulator."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.harness.harness_support import (
    INPUT_TOKENS,
    MULTI_FILE_CHANGE,
    OUTPUT_TOKENS,
    SONNET_COST,
    TURNS,
    assert_multi_file_change,
    harness_env,
    make_repo,
    wait_until_gone,
)

from atomesh.harness import HarnessLimits, ModelAccess, Task
from atomesh.harness.claude_code import ClaudeCode

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = "sk-ant-test-claude-key-0001"
LIMITS = HarnessLimits(max_turns=10, timeout_seconds=120, max_cost_usd=5.0)


def harness(url: str, cli: str, tools: tuple[str, ...] = ()) -> ClaudeCode:
    return ClaudeCode(ModelAccess(model="claude-sonnet-4-5", base_url=url, api_key=KEY, allowed_tools=tools), cli)


def test_multi_file_change_and_usage(tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str) -> None:
    emulator = anthropic_emulator(MULTI_FILE_CHANGE)
    repo = make_repo(tmp_path / "ws")
    result = harness(emulator.url, claude_cli).run(
        Task("Improve the docs.", "Be brief."), tmp_path / "ws", LIMITS, harness_env()
    )
    assert result.ok, result.message
    assert_multi_file_change(repo)
    assert emulator.remaining_turns == 0
    assert result.usage.turns == TURNS
    assert result.usage.input_tokens == INPUT_TOKENS
    assert result.usage.output_tokens == OUTPUT_TOKENS
    assert result.usage.cost_usd == pytest.approx(SONNET_COST)
    assert result.session_id
    assert result.final_text == "Added a guide and a helper; greeted the world."
    requests = emulator.requests
    assert {r.path for r in requests} == {"/v1/messages"}
    assert all(r.query.get("beta") == "true" and r.stream for r in requests)
    assert "Be brief." in str(requests[0].body["system"])
    assert all(KEY not in str(r.headers) + str(r.body) for r in requests)


def test_survives_a_429_storm(tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str) -> None:
    emulator = anthropic_emulator([{"error": 429, "times": 3, "retryAfter": 0}, {"text": "Done."}])
    make_repo(tmp_path / "ws")
    result = harness(emulator.url, claude_cli).run(Task("Say done."), tmp_path / "ws", LIMITS, harness_env())
    assert result.ok, result.message
    assert [r.status for r in emulator.requests] == [429, 429, 429, 200]


def test_overload_that_does_not_end_fails_clearly(
    tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str
) -> None:
    emulator = anthropic_emulator([{"error": 529, "times": 0}])
    make_repo(tmp_path / "ws")
    env = harness_env() | {"CLAUDE_CODE_MAX_RETRIES": "1"}
    result = harness(emulator.url, claude_cli).run(Task("Say done."), tmp_path / "ws", LIMITS, env)
    assert result.reason == "ModelError"
    assert "529" in result.message


def test_max_turns_and_budget(tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str) -> None:
    forever = {"tools": [{"tool": "run", "input": {"command": "echo again"}}], "times": 0}
    make_repo(tmp_path / "ws")
    looping = anthropic_emulator([forever])
    limits = HarnessLimits(max_turns=2, timeout_seconds=120)
    result = harness(looping.url, claude_cli).run(Task("Loop."), tmp_path / "ws", limits, harness_env())
    assert result.reason == "MaxTurnsReached"
    expensive = anthropic_emulator([forever | {"usage": {"input_tokens": 100_000, "output_tokens": 10}}])
    limits = HarnessLimits(max_turns=20, timeout_seconds=120, max_cost_usd=0.5)
    result = harness(expensive.url, claude_cli).run(Task("Loop."), tmp_path / "ws", limits, harness_env())
    assert result.reason == "BudgetExceeded"
    assert result.usage.cost_usd > 0.5


def test_allowed_tools_deny_the_rest(tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str) -> None:
    emulator = anthropic_emulator(
        [
            {"tools": [{"tool": "run", "input": {"command": "touch ran-bash"}}]},
            {"tools": [{"tool": "write_file", "input": {"path": "wrote.txt", "content": "x"}}]},
            {"text": "Done."},
        ]
    )
    make_repo(tmp_path / "ws")
    result = harness(emulator.url, claude_cli, ("Write", "Read")).run(
        Task("Try."), tmp_path / "ws", LIMITS, harness_env()
    )
    assert result.ok, result.message
    assert not (tmp_path / "ws" / "ran-bash").exists()
    assert (tmp_path / "ws" / "wrote.txt").read_text() == "x"


def test_timeout_kills_the_process_tree(tmp_path: Path, anthropic_emulator: StartEmulator, claude_cli: str) -> None:
    marker = f"atomesh-marker-{tmp_path.name}"
    emulator = anthropic_emulator([{"tools": [{"tool": "run", "input": {"command": f"sleep 300 # {marker}"}}]}])
    make_repo(tmp_path / "ws")
    limits = HarnessLimits(max_turns=5, timeout_seconds=3)
    result = harness(emulator.url, claude_cli).run(Task("Wait."), tmp_path / "ws", limits, harness_env())
    assert result.reason == "Timeout"
    assert "limits.timeout" in result.message
    # Claude Code runs the shell in its own session; it must have been killed with the CLI.
    assert wait_until_gone(marker), f"a process running {marker!r} outlived the harness"
