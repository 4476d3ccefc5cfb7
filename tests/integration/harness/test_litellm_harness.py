"""The built-in LiteLLM tool loop, driven through the Anthropic emulator."""

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
from atomesh.harness.litellm_loop import LiteLLMLoop

pytestmark = pytest.mark.integration
KEY = "sk-ant-test-litellm-key-0003"
LIMITS = HarnessLimits(max_turns=10, timeout_seconds=60, max_cost_usd=5.0)


def loop(url: str, model: str = "claude-sonnet-4-5") -> LiteLLMLoop:
    return LiteLLMLoop(ModelAccess(model=model, base_url=url, api_key=KEY))


def test_multi_file_change_and_usage(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator(MULTI_FILE_CHANGE)
    repo = make_repo(tmp_path / "ws")
    result = loop(emulator.url).run(Task("Improve the docs.", "Be brief."), tmp_path / "ws", LIMITS, harness_env())
    assert result.ok, result.message
    assert_multi_file_change(repo)
    assert result.usage.turns == TURNS
    assert result.usage.input_tokens == INPUT_TOKENS
    assert result.usage.output_tokens == OUTPUT_TOKENS
    assert result.usage.cost_usd == pytest.approx(SONNET_COST)
    assert result.final_text == "Added a guide and a helper; greeted the world."
    assert {r.harness for r in emulator.requests} == {"litellm"}
    assert "Be brief." in str(emulator.requests[0].body["system"])


def test_rate_limits_are_retried_then_fail_clearly(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    make_repo(tmp_path / "ws")
    brief = anthropic_emulator([{"error": 429, "times": 2, "retryAfter": 0}, {"text": "Done."}])
    assert loop(brief.url).run(Task("Go."), tmp_path / "ws", LIMITS, harness_env()).ok
    endless = anthropic_emulator([{"error": 429, "times": 0, "retryAfter": 0}])
    result = loop(endless.url).run(Task("Go."), tmp_path / "ws", LIMITS, harness_env())
    assert result.reason == "ModelError"
    assert "RateLimitError" in result.message
    assert len(endless.requests) == 5  # one call and four retries


def test_unpriced_model_costs_zero_with_a_note(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    # A model the API serves but LiteLLM has no price for: the emulator's own.
    emulator = anthropic_emulator([{"text": "Done."}])
    make_repo(tmp_path / "ws")
    result = loop(emulator.url, "emulator-small").run(Task("Go."), tmp_path / "ws", LIMITS, harness_env())
    assert result.ok, result.message
    assert result.usage.cost_usd == 0
    assert any("emulator-small" in note for note in result.notes)


def test_a_model_the_api_does_not_serve_fails_naming_it(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"text": "Done."}])
    make_repo(tmp_path / "ws")
    result = loop(emulator.url, "claude-made-up-9").run(Task("Go."), tmp_path / "ws", LIMITS, harness_env())
    assert result.reason == "ModelError"
    assert "not_found_error" in result.message
    assert "model: claude-made-up-9" in result.message
    assert [r.status for r in emulator.requests] == [404]


def test_limits(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    make_repo(tmp_path / "ws")
    forever = {"tools": [{"tool": "run", "input": {"command": "echo again"}}], "times": 0}
    looping = anthropic_emulator([forever])
    limits = HarnessLimits(max_turns=3, timeout_seconds=60)
    result = loop(looping.url).run(Task("Loop."), tmp_path / "ws", limits, harness_env())
    assert (result.reason, result.usage.turns) == ("MaxTurnsReached", 3)
    tokens = HarnessLimits(max_turns=30, timeout_seconds=60, max_tokens=2500)
    result = loop(looping.url).run(Task("Loop."), tmp_path / "ws", tokens, harness_env())
    assert result.reason == "TokensExceeded"
    sleeping = anthropic_emulator([{"tools": [{"tool": "run", "input": {"command": "sleep 300"}}]}])
    short = HarnessLimits(max_turns=5, timeout_seconds=2)
    result = loop(sleeping.url).run(Task("Wait."), tmp_path / "ws", short, harness_env())
    assert result.reason == "Timeout"
