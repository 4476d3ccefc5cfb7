"""Parsing harness output and checking limits: pure functions, real output shapes."""

from __future__ import annotations

import json

from atomesh.harness.claude_code import StreamState, build_argv, interpret
from atomesh.harness.opencode import EventState, build_config, provider_and_model, stop_reason
from atomesh.harness.protocol import HarnessLimits, HarnessUsage, ModelAccess, Task, limit_exceeded
from atomesh.harness.workspace_tools import ToolPolicy

LIMITS = HarnessLimits(max_turns=3, timeout_seconds=60, max_cost_usd=0.5, max_tokens=10_000)


def test_limits() -> None:
    assert limit_exceeded(HarnessUsage(turns=3), LIMITS) is None
    assert limit_exceeded(HarnessUsage(turns=4), LIMITS)[0] == "MaxTurnsReached"  # type: ignore[index]
    assert limit_exceeded(HarnessUsage(cost_usd=0.51), LIMITS)[0] == "BudgetExceeded"  # type: ignore[index]
    assert limit_exceeded(HarnessUsage(input_tokens=9000, output_tokens=1001), LIMITS)[0] == "TokensExceeded"  # type: ignore[index]


def test_claude_result_message() -> None:
    state = StreamState()
    state.feed(json.dumps({"type": "system", "subtype": "init", "session_id": "s-1"}))
    state.feed(json.dumps({"type": "assistant", "message": {"id": "m1", "usage": {"input_tokens": 7}}}))
    state.feed("not json")
    assert state.usage() == HarnessUsage(input_tokens=7, turns=1)
    result = {
        "type": "result",
        "subtype": "error_max_turns",
        "num_turns": 4,
        "total_cost_usd": 0.25,
        "session_id": "s-1",
        "usage": {
            "input_tokens": 100,
            "cache_read_input_tokens": 20,
            "cache_creation_input_tokens": 5,
            "output_tokens": 9,
        },
    }
    state.feed(json.dumps(result))
    assert state.usage() == HarnessUsage(input_tokens=125, output_tokens=9, cost_usd=0.25, turns=4)
    reason, message = interpret(state, 1, "")
    assert reason == "MaxTurnsReached"
    assert "error_max_turns" in message
    assert interpret(StreamState(), 2, "boom\nSegmentation fault")[0] == "Crashed"


def test_claude_argv_restricts_tools_only_when_listed() -> None:
    task = Task("p", "s")
    open_argv = build_argv("claude", ModelAccess(model="m"), LIMITS, task)
    assert open_argv[open_argv.index("--permission-mode") + 1] == "bypassPermissions"
    assert "p" not in open_argv  # the prompt goes on stdin
    listed = build_argv("claude", ModelAccess(model="m", allowed_tools=("Edit", "Bash(npm test:*)")), LIMITS, task)
    assert listed[listed.index("--permission-mode") + 1] == "dontAsk"
    assert listed[listed.index("--allowedTools") + 1] == "Edit,Bash(npm test:*)"
    assert listed[listed.index("--max-budget-usd") + 1] == "0.5"


def test_opencode_events_and_config() -> None:
    state = EventState()
    finish = {"type": "step_finish", "sessionID": "ses_1", "part": {"reason": "tool-calls", "cost": 0.01}}
    finish["part"]["tokens"] = {"input": 100, "output": 10, "reasoning": 2, "cache": {"read": 5, "write": 1}}  # type: ignore[index]
    for _ in range(3):
        state.feed(json.dumps(finish))
    assert state.usage() == HarnessUsage(input_tokens=318, output_tokens=36, cost_usd=0.03, turns=3)
    assert stop_reason(state, LIMITS) is not None  # 3 turns spent and the model still calls tools
    config = build_config(ModelAccess(model="claude-x", base_url="http://h:1", api_key="k", allowed_tools=("write",)))
    assert config["provider"]["anthropic"]["options"] == {
        "baseURL": "http://h:1/v1",
        "apiKey": "{env:ATOMESH_OPENCODE_API_KEY}",
    }
    assert config["permission"]["edit"] == "allow"
    assert config["permission"]["bash"] == "deny"
    assert provider_and_model("openai/gpt-5") == ("openai", "gpt-5")


def test_litellm_tool_policy() -> None:
    everything = ToolPolicy.from_allowed(())
    assert everything.command_allowed("rm -rf build")
    limited = ToolPolicy.from_allowed(("Edit", "Bash(pytest:*)"))
    assert limited.command_allowed("pytest -q")
    assert not limited.command_allowed("curl http://example.com")
    assert "write_file" in limited.tools
    assert not ToolPolicy.from_allowed(("read_file",)).command_allowed("ls")
