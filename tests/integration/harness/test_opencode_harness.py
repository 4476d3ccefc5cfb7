"""The real OpenCode CLI, driven through the Anthropic emulator."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.integration.harness.harness_support import (
    GUIDE,
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


def test_a_revision_resumes_the_opencode_session_in_a_fresh_checkout(
    tmp_path: Path, anthropic_emulator: StartEmulator, opencode_cli: str
) -> None:
    """The first run's session, exported, is imported by a later run in another home and another clone of the
    repository, and its first model request carries the first run's turns before the new task."""
    script = {
        "turns": [
            {"tools": [{"tool": "write_file", "input": {"path": "docs/guide.md", "content": GUIDE}}]},
            {"text": "Wrote the guide, FIRST-RUN-MARKER."},
            {"text": "Revised as asked."},
        ]
    }
    emulator = anthropic_emulator(script)
    origin = make_repo(tmp_path / "ws1")
    saved = tmp_path / "state1" / "session.json"
    first = harness(emulator.url, opencode_cli).run(
        Task("Write a guide.", session_out=saved), tmp_path / "ws1", LIMITS, harness_env()
    )
    assert first.ok, first.message
    record = json.loads(saved.read_text())
    assert (record["harness"], record["sessionId"]) == ("opencode", first.session_id)
    assert KEY not in saved.read_text()

    clone = git.Repo.clone_from(str(origin.working_dir), tmp_path / "ws2")
    requests_before = len(emulator.requests)
    second = harness(emulator.url, opencode_cli).run(
        Task("Please also greet the reader.", resume_from=saved), Path(str(clone.working_dir)), LIMITS, harness_env()
    )
    assert second.ok, second.message
    assert second.session_id == first.session_id
    assert second.resumed
    assert not first.resumed
    assert any("resumed an OpenCode session" in note for note in second.notes)
    (resumed, *_) = [r.body for r in emulator.requests[requests_before:] if r.turn is not None]
    texts = [str(m.get("content")) for m in resumed["messages"]]
    assert "Write a guide." in texts[0]
    assert any(m["role"] == "assistant" and "FIRST-RUN-MARKER" in str(m["content"]) for m in resumed["messages"])
    assert "Please also greet the reader." in texts[-1]
    assert emulator.remaining_turns == 0


def test_an_unusable_session_starts_afresh(
    tmp_path: Path, anthropic_emulator: StartEmulator, opencode_cli: str
) -> None:
    emulator = anthropic_emulator({"turns": [{"text": "Fresh start."}]})
    make_repo(tmp_path / "ws")
    saved = tmp_path / "session.json"
    saved.write_text(json.dumps({"harness": "claude-code", "sessionId": "1b37ada4-3604", "transcript": ""}))
    result = harness(emulator.url, opencode_cli).run(
        Task("Go.", resume_from=saved), tmp_path / "ws", LIMITS, harness_env()
    )
    assert result.ok, result.message
    (request,) = [r.body for r in emulator.requests if r.turn is not None]
    assert len(request["messages"]) == 1
    assert result.notes == ()
    assert not result.resumed
