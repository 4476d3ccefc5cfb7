"""Recording: a streamed message read back whole, tool calls in the generic spelling, cassettes written
readable and without secrets, and the report's shapes (closing line, JUnit XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from atomesh.agenttest.case import load_case
from atomesh.agenttest.cassette_file import cassette_diff, dump_cassette
from atomesh.agenttest.execution import CaseResult
from atomesh.agenttest.expectations import Miss
from atomesh.agenttest.recorder import generic_call, message_from_stream, turn_from_message
from atomesh.agenttest.report import junit_xml, summary_line
from atomesh.devstack.anthropic.app import stream_events
from atomesh.devstack.anthropic.cassette import Cassette, ToolCall, load_cassette

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKSPACE = "/pods/run-1/workspace/repo"
MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-6",
    "content": [
        {"type": "text", "text": "I will write the note now, in a text longer than one forty-character delta."},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "Write",
            "input": {"file_path": f"{WORKSPACE}/docs/note.md", "content": "# Note\n" * 20},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 1200,
        "output_tokens": 80,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    },
}


def sse(message: dict[str, object]) -> str:
    return "".join(f"event: {event.name}\ndata: {event.data}\n\n" for event in stream_events(message))


def test_a_stream_reads_back_as_the_message_it_spells() -> None:
    read = message_from_stream(sse(MESSAGE))
    assert read["content"] == MESSAGE["content"]
    assert read["stop_reason"] == "tool_use"
    assert read["usage"]["output_tokens"] == 80


def test_a_recorded_turn_uses_generic_tools_relative_to_the_workspace() -> None:
    turn = turn_from_message(message_from_stream(sse(MESSAGE)), WORKSPACE)
    assert turn.text == MESSAGE["content"][0]["text"]  # type: ignore[index]
    assert turn.tools == [ToolCall(tool="write_file", input={"path": "docs/note.md", "content": "# Note\n" * 20})]
    assert turn.stop_reason is None  # the default for a turn with tool calls
    assert (turn.usage.input_tokens, turn.usage.output_tokens) == (1200, 80)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("Read", {"file_path": f"{WORKSPACE}/a.py"}, ToolCall(tool="read_file", input={"path": "a.py"})),
        ("Read", {"file_path": f"{WORKSPACE}/a.py", "offset": 3}, None),  # kept as the harness spelled it
        ("read", {"filePath": f"{WORKSPACE}/a.py"}, ToolCall(tool="read_file", input={"path": "a.py"})),
        (
            "edit",
            {"filePath": f"{WORKSPACE}/a.py", "oldString": "x", "newString": "y"},
            ToolCall(tool="edit_file", input={"path": "a.py", "old": "x", "new": "y"}),
        ),
        (
            "Edit",
            {"file_path": f"{WORKSPACE}/a.py", "old_string": "x", "new_string": "y"},
            ToolCall(tool="edit_file", input={"path": "a.py", "old": "x", "new": "y"}),
        ),
        ("Write", {"file_path": "/etc/passwd", "content": "x"}, None),  # outside the workspace: as it was
        (
            "Bash",
            {"command": "ls", "description": "List"},
            ToolCall(tool="run", input={"command": "ls", "description": "List"}),
        ),
        ("run_command", {"command": "pytest"}, ToolCall(tool="run", input={"command": "pytest"})),
        ("write_file", {"path": "a.py", "content": "x"}, None),
        ("Grep", {"pattern": "x"}, None),
    ],
)
def test_generic_spelling(name: str, args: dict[str, object], expected: ToolCall | None) -> None:
    assert generic_call(name, args, WORKSPACE) == (expected or ToolCall(tool=name, input=args))


def test_a_written_cassette_loads_back_without_its_secrets(tmp_path: Path) -> None:
    turn = turn_from_message(
        {"content": [{"type": "text", "text": "the key is sk-live-123\nand more"}], "usage": {}}, WORKSPACE
    )
    text = dump_cassette(Cassette(turns=[turn]), "recorded\nby a test", ["sk-live-123", None])
    assert "sk-live-123" not in text
    assert text.startswith("# recorded\n# by a test\n")
    path = tmp_path / "cassette.yaml"
    path.write_text(text)
    assert load_cassette(path).turns[0].text == "the key is <redacted>\nand more"
    assert cassette_diff(text, text, "c") == ""
    assert "+# again" in cassette_diff(text, "# again\n" + text, "c")


def test_the_report_counts_and_junit_xml() -> None:
    case = load_case(REPO_ROOT / "agents" / "bug-fix" / "tests" / "blank-name" / "case.yaml")
    passed = CaseResult(case, "litellm", Path("out"), [], seconds=1.5)
    failed = CaseResult(case, "claude-code", Path("out"), [Miss("expect.verdict", "wanted success, got failure")])
    broken = CaseResult(case, "opencode", Path("out"), [], error="the cassette has no turn for 1 model request(s)")
    results = [passed, failed, broken]
    assert summary_line(results, 3.25) == "1 passed, 1 failed, 1 error in 3.2s"
    root = ET.fromstring(junit_xml(results, 3.25).split("\n", 1)[1])  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["blank-name[litellm]", "blank-name[claude-code]", "blank-name[opencode]"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "expect.verdict: wanted success, got failure"
    error = cases[2].find("error")
    assert error is not None
    assert "no turn" in (error.get("message") or "")
