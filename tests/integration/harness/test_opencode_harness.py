"""The real OpenCode CLI, driven through the Anthropic emulator."""

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
)

from atomesh.harness import HarnessLimits, ModelAccess, Task
from atomesh.harness.opencode import OpenCode

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = "sk-ant-test-opencode-key-0002"
LIMITS = HarnessLimits(max_turns=10, timeout_seconds=120, max_cost_usd=5.0)


def harness(url: str, cli: str, tools: tuple[str, ...] = ()) -> OpenCode:
    return OpenCode(ModelAccess(model="claude-sonnet-4-5", base_url=url, api_key=KEY, allowed_tools=tools), cli)


def test_multi_file_change_and_usage(tmp_path: Path, anthropic_emulator: StartEmulator, opencode_cli: str) -> None:
    emulator = anthropic_emulator(MULTI_FILE_CHANGE)
    repo = make_repo(tmp_path / "ws")
    result = harness(emulator.url, opencode_cli).run(
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
    # OpenCode's extra title-generation call got the default reply and did not consume the script.
    side_calls = [r for r in emulator.requests if r.turn is None]
    assert side_calls
    assert all(not r.body.get("tools") for r in side_calls)
    assert all(KEY not in str(r.headers) + str(r.body) for r in emulator.requests)
    # The config (with the base URL) lives outside the workspace.
    assert not (tmp_path / "ws" / "opencode.json").exists()


def test_max_turns_stops_opencode(tmp_path: Path, anthropic_emulator: StartEmulator, opencode_cli: str) -> None:
    emulator = anthropic_emulator([{"tools": [{"tool": "run", "input": {"command": "echo again"}}], "times": 0}])
    make_repo(tmp_path / "ws")
    limits = HarnessLimits(max_turns=2, timeout_seconds=120)
    result = harness(emulator.url, opencode_cli).run(Task("Loop."), tmp_path / "ws", limits, harness_env())
    assert result.reason == "MaxTurnsReached"
    assert result.usage.turns == 2


def test_model_error_fails_clearly(tmp_path: Path, anthropic_emulator: StartEmulator, opencode_cli: str) -> None:
    emulator = anthropic_emulator([{"error": 400, "message": "temperature: out of range", "times": 0}])
    make_repo(tmp_path / "ws")
    result = harness(emulator.url, opencode_cli).run(Task("Go."), tmp_path / "ws", LIMITS, harness_env())
    assert result.reason == "ModelError"
    assert "temperature: out of range" in result.message
