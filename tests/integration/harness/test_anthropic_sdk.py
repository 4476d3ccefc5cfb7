"""The anthropic SDK against the emulator: streaming, tool use, usage, errors, token counting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.harness.harness_support import (
    INPUT_TOKENS,
    MULTI_FILE_CHANGE,
    OUTPUT_TOKENS,
    assert_multi_file_change,
    make_repo,
)

pytestmark = pytest.mark.integration

# Model names of the emulator's own: the SDK warns about real models on its deprecation schedule, and
# what it warns about changes with the SDK release and the calendar, never with this code.
LARGE_MODEL = "emulator-large"
SMALL_MODEL = "emulator-small"

TOOLS: list[Any] = [
    {
        "name": "write_file",
        "description": "Write a file.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}}},
    },
    {"name": "read_file", "description": "Read a file.", "input_schema": {"type": "object"}},
    {"name": "edit_file", "description": "Replace text.", "input_schema": {"type": "object"}},
    {"name": "run_command", "description": "Run a command.", "input_schema": {"type": "object"}},
]


def client(url: str, retries: int = 0) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-sdk-test", max_retries=retries)


def apply(root: Path, name: str, args: dict[str, Any]) -> str:
    target = root / str(args["path"])
    if name == "write_file":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(args["content"])
        return "written"
    if name == "edit_file":
        target.write_text(target.read_text().replace(args["old"], args["new"], 1))
        return "edited"
    return target.read_text()


def test_streamed_tool_loop_makes_the_change(tmp_path: Path, anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator(MULTI_FILE_CHANGE)
    repo = make_repo(tmp_path / "ws")
    sdk = client(emulator.url)
    messages: list[Any] = [{"role": "user", "content": "Improve the docs."}]
    input_tokens = output_tokens = 0
    for _ in range(10):
        with sdk.messages.stream(model=LARGE_MODEL, max_tokens=1024, messages=messages, tools=TOOLS) as s:
            message = s.get_final_message()
        input_tokens += message.usage.input_tokens
        output_tokens += message.usage.output_tokens
        messages.append({"role": "assistant", "content": message.content})
        calls = [block for block in message.content if block.type == "tool_use"]
        if message.stop_reason != "tool_use":
            break
        results = [
            {"type": "tool_result", "tool_use_id": c.id, "content": apply(tmp_path / "ws", c.name, dict(c.input))}
            for c in calls
        ]
        messages.append({"role": "user", "content": results})
    assert_multi_file_change(repo)
    assert (input_tokens, output_tokens) == (INPUT_TOKENS, OUTPUT_TOKENS)
    assert emulator.remaining_turns == 0
    assert all(r.stream for r in emulator.requests)


def test_non_streaming_reply_and_count_tokens(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator({"turns": [], "default": {"text": "Hi there."}})
    sdk = client(emulator.url)
    reply = sdk.messages.create(model=SMALL_MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hello"}])
    assert reply.content[0].type == "text"
    assert reply.content[0].text == "Hi there."
    assert reply.stop_reason == "end_turn"
    assert reply.usage.input_tokens > 0
    counted = sdk.messages.count_tokens(model=SMALL_MODEL, messages=[{"role": "user", "content": "Hello"}])
    assert counted.input_tokens > 0
    assert SMALL_MODEL in [m.id for m in sdk.models.list()]


def test_errors_have_anthropics_shape(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator(
        {
            "turns": [
                {"match": {"contains": "limit"}, "error": 429, "retryAfter": 7},
                {"match": {"contains": "busy"}, "error": 529},
                {"match": {"contains": "bad"}, "error": 400, "message": "messages: too long"},
            ]
        }
    )
    sdk = client(emulator.url)

    def ask(text: str) -> None:
        sdk.messages.create(model=LARGE_MODEL, max_tokens=8, messages=[{"role": "user", "content": text}])

    with pytest.raises(anthropic.RateLimitError) as limited:
        ask("limit")
    assert limited.value.response.headers["retry-after"] == "7"
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as busy:
        ask("busy")
    assert busy.value.status_code == 529
    assert busy.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError, match="messages: too long"):
        ask("bad")
    # Requests the SDK would refuse to build: malformed, and unauthenticated.
    missing = httpx.post(f"{emulator.url}/v1/messages", json={"model": "m"}, headers={"x-api-key": "k"})
    assert missing.status_code == 400
    assert missing.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}
    body = {"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "x"}]}
    anonymous = httpx.post(f"{emulator.url}/v1/messages", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"


def test_sdk_retries_through_a_short_storm(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([{"error": 529, "times": 2, "retryAfter": 0}, {"text": "made it"}])
    reply = client(emulator.url, retries=3).messages.create(
        model=LARGE_MODEL,
        max_tokens=8,
        messages=[{"role": "user", "content": "go"}],
        tools=TOOLS,
    )
    assert reply.content[0].type == "text"
    assert reply.content[0].text == "made it"
    assert [r.status for r in emulator.requests] == [529, 529, 200]
