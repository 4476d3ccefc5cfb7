"""Cassette playback: in order for the agent conversation, by content for matched turns, defaults otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from atomesh.devstack.anthropic.cassette import Reply, RequestFacts, Script, agent_name, load_cassette, unmatched
from atomesh.devstack.anthropic.tools import detect_harness, translate, working_directory


def play(script: Script, text: str = "", tools: bool = True, harness: str = "claude-code") -> int | None:
    chosen = script.next_turn(RequestFacts(last_user_text=text, harness=harness, has_tools=tools))
    return None if chosen is None else chosen[0]


def test_in_order_turns_skip_side_calls() -> None:
    script = Script(load_cassette([{"text": "one"}, {"text": "two"}]))
    assert play(script, "Generate a title", tools=False) is None  # e.g. OpenCode's title call
    assert play(script) == 0
    assert play(script) == 1
    assert play(script) is None
    assert script.remaining == 0


def test_matched_turns_answer_by_content_and_times() -> None:
    cassette = {
        "turns": [
            {"error": 429, "times": 2, "retryAfter": 0},
            {"text": "first"},
            {"match": {"contains": "tests passed"}, "text": "great", "times": 0},
        ]
    }
    script = Script(load_cassette(cassette))
    assert [play(script), play(script)] == [0, 0]
    assert play(script, "tests passed") == 1  # the earliest eligible turn wins
    assert play(script, "tests passed") == 2
    assert play(script, "tests passed") == 2  # times: 0 answers for ever
    assert play(script, "other") is None


def test_yaml_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("turns:\n  - tools:\n      - {tool: write_file, input: {path: a.txt, content: hi}}\n")
    assert load_cassette(path).turns[0].tools[0].tool == "write_file"
    with pytest.raises(ValidationError, match="needs text, tools or error"):
        load_cassette([{"times": 2}])
    with pytest.raises(ValidationError):
        load_cassette([{"error": 418}])


def test_generic_tools_per_harness() -> None:
    assert detect_harness(["Agent", "Bash", "Write"]) == "claude-code"
    assert detect_harness(["write", "read"]) == "opencode"
    assert detect_harness(["write_file", "run_command"]) == "litellm"
    assert detect_harness(["lookup"]) == "unknown"
    args = {"path": "docs/a.md", "old": "x", "new": "y"}
    assert translate("edit_file", args, "claude-code", "/w") == (
        "Edit",
        {"file_path": "/w/docs/a.md", "old_string": "x", "new_string": "y"},
    )
    assert translate("edit_file", args, "opencode", "/w") == (
        "edit",
        {"filePath": "/w/docs/a.md", "oldString": "x", "newString": "y"},
    )
    assert translate("run", {"command": "ls"}, "litellm", None) == ("run_command", {"command": "ls"})
    assert translate("Write", {"file_path": "/x"}, "claude-code", "/w") == ("Write", {"file_path": "/x"})
    assert working_directory(" - Primary working directory: /tmp/ws\n", "") == "/tmp/ws"
    with pytest.raises(ValueError, match="needs input field 'content'"):
        translate("write_file", {"path": "a"}, "opencode", None)


def test_match_on_a_tool_result() -> None:
    script = Script(load_cassette([{"match": {"toolResult": True}, "text": "done"}, {"text": "go", "times": 0}]))
    assert script.next_turn(RequestFacts(has_tools=True)) == (1, script.cassette.turns[1])
    assert script.next_turn(RequestFacts(has_tools=True, has_tool_result=True)) == (0, script.cassette.turns[0])


def test_no_default_means_an_unscripted_request_is_named() -> None:
    assert load_cassette([{"text": "one"}]).default is None
    assert load_cassette({"turns": [], "default": {"text": "OK."}}).default == Reply(text="OK.")
    assert agent_name("no name here", "You are the atomesh agent 'csv-cleaner', running unattended") == "csv-cleaner"
    facts = RequestFacts(last_user_text="tool said:\n  " + "x" * 100, harness="litellm", has_tools=True, agent="mine")
    message = unmatched(facts)
    assert message.startswith("no scripted turn for this request (agent 'mine', harness litellm, last message 'tool")
    assert len(message) < 160  # harnesses cut error messages; the agent's name must survive
    assert "agent" in unmatched(RequestFacts())


def test_task_contains_looks_at_the_first_user_message() -> None:
    script = Script(load_cassette([{"match": {"taskContains": "## Review feedback"}, "text": "revised", "times": 0}]))
    revision = RequestFacts(first_user_text="# Task\n\n## Review feedback (revision 1)", last_user_text="file text")
    assert script.next_turn(revision) == (0, script.cassette.turns[0])
    assert script.next_turn(RequestFacts(first_user_text="# Task", last_user_text="## Review feedback")) is None
