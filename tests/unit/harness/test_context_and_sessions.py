"""How each harness is told about contexts and sessions (pure parts: argv, session files)."""

from __future__ import annotations

import json
from pathlib import Path

from atomesh.harness import HarnessLimits, ModelAccess, Task
from atomesh.harness.claude_code import build_argv, project_dir, restore_session, save_session
from atomesh.harness.litellm_loop import load_transcript, save_transcript

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
