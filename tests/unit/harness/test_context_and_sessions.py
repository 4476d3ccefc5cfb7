"""How each harness is told about contexts and sessions (pure parts: argv, session files)."""

from __future__ import annotations

import json
from pathlib import Path

from atomesh.harness import HarnessLimits, ModelAccess, Task
from atomesh.harness.claude_code import build_argv, project_dir, restore_session, save_session
from atomesh.harness.litellm_loop import load_transcript, save_transcript
from atomesh.harness.opencode import build_argv as opencode_argv
from atomesh.harness.opencode_session import resumable_export, session_record

ACCESS = ModelAccess(model="claude-sonnet-4-5")
LIMITS = HarnessLimits(max_turns=5, timeout_seconds=60)
SESSION = "1b37ada4-3604-497c-9ba7-093d488adac2"


def test_claude_code_gets_the_context_and_its_folders() -> None:
    task = Task(
        "Do it.", "Be brief.", context="# Organisational context", context_dirs=(Path("/ctx/a"), Path("/ctx/b"))
    )
    argv = build_argv("claude", ACCESS, LIMITS, task)
    assert argv[argv.index("--append-system-prompt") + 1] == "Be brief.\n\n# Organisational context"
    assert [argv[i + 1] for i, arg in enumerate(argv) if arg == "--add-dir"] == ["/ctx/a", "/ctx/b"]


def test_claude_code_keeps_a_session_only_when_asked_and_resumes_one() -> None:
    assert "--no-session-persistence" in build_argv("claude", ACCESS, LIMITS, Task("x"))
    argv = build_argv("claude", ACCESS, LIMITS, Task("x", session_out=Path("/s.json")), resume=SESSION)
    assert "--no-session-persistence" not in argv
    assert argv[argv.index("--resume") + 1] == SESSION


def test_a_claude_code_session_moves_to_another_home_and_workspace(tmp_path: Path) -> None:
    first_home, first_ws = tmp_path / "h1", tmp_path / "ws1"
    first_ws.mkdir()
    written = project_dir(first_home, first_ws) / f"{SESSION}.jsonl"
    written.parent.mkdir(parents=True)
    written.write_text('{"type":"user"}\n')
    saved = tmp_path / "session.json"
    save_session(saved, first_home, SESSION)
    second_home, second_ws = tmp_path / "h2", tmp_path / "ws2"
    second_ws.mkdir()
    assert restore_session(saved, second_home, second_ws) == SESSION
    assert (project_dir(second_home, second_ws) / f"{SESSION}.jsonl").read_text() == '{"type":"user"}\n'


def test_a_session_of_another_harness_or_a_bad_id_is_not_resumed(tmp_path: Path) -> None:
    other = tmp_path / "litellm.json"
    save_transcript(other, [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    assert restore_session(other, tmp_path / "h", tmp_path) is None
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({"harness": "claude-code", "sessionId": "../../x", "transcript": ""}))
    assert restore_session(forged, tmp_path / "h", tmp_path) is None
    assert restore_session(None, tmp_path / "h", tmp_path) is None


def test_the_litellm_transcript_round_trips_without_its_system_prompt(tmp_path: Path) -> None:
    path = tmp_path / "s" / "current.json"
    messages = [
        {"role": "system", "content": "old system prompt"},
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": "done"},
    ]
    save_transcript(path, messages)
    assert load_transcript(path) == messages[1:]
    assert load_transcript(tmp_path / "missing.json") == []
    claude = tmp_path / "claude.json"
    claude.write_text(json.dumps({"harness": "claude-code", "sessionId": SESSION, "transcript": ""}))
    assert load_transcript(claude) == []


OPENCODE_SESSION = "ses_db020468fffebAlrqHv0aIVKwg"


def test_opencode_continues_an_imported_session_only_when_given_one() -> None:
    assert "--session" not in opencode_argv("opencode", ACCESS, Task("x"))
    argv = opencode_argv("opencode", ACCESS, Task("x"), resume=OPENCODE_SESSION)
    assert argv[argv.index("--session") + 1] == OPENCODE_SESSION
    assert argv[-1] == "x"


def test_an_opencode_session_record_is_resumed_only_when_whole_and_its_own(tmp_path: Path) -> None:
    export = {"info": {"id": OPENCODE_SESSION, "directory": "/ws"}, "messages": [{"info": {}, "parts": []}]}
    saved = tmp_path / "session.json"
    saved.write_text(json.dumps(session_record(OPENCODE_SESSION, export)))
    assert resumable_export(saved) == (OPENCODE_SESSION, export)
    for broken in (
        {"harness": "claude-code", "sessionId": OPENCODE_SESSION, "export": export},
        {"harness": "opencode", "sessionId": "../../x", "export": export},
        {"harness": "opencode", "sessionId": "ses_0000000000other", "export": export},
        {"harness": "opencode", "sessionId": OPENCODE_SESSION, "export": {"info": {"id": OPENCODE_SESSION}}},
    ):
        saved.write_text(json.dumps(broken))
        assert resumable_export(saved) is None, broken
    saved.write_text("not json")
    assert resumable_export(saved) is None
    assert resumable_export(tmp_path / "missing.json") is None
    assert resumable_export(None) is None
