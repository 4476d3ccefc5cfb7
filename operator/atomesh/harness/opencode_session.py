"""OpenCode sessions moved between runs with the CLI's own `opencode export` and `opencode import`.

OpenCode keeps sessions in a SQLite database under $XDG_DATA_HOME/opencode, private to one harness
process; `opencode export <id>` prints a session (info, messages, parts) as JSON and
`opencode import <file>` writes it into another data directory under the same id, after which
`opencode run --session <id>` continues it. A session belongs to the project (the workspace
repository's root commit), not to a path, so a revision's fresh checkout finds it. `opencode run`
reads a stdin that is not a terminal to its end before it starts: every command here runs with
stdin closed (run_process), or a resumed run would wait forever.

The saved record is `{"harness": "opencode", "sessionId": ..., "export": {...}}`. A record of another
harness, a malformed one or one the CLI cannot import is not resumed: the run starts a new session.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atomesh.harness.process import last_line, run_process
from atomesh.harness.saved_session import load_saved_session

SESSION_KIND = "opencode"
# `opencode export` and `import` start the whole CLI (database, project scan): seconds, not minutes.
SESSION_COMMAND_TIMEOUT = 120.0
_SESSION_ID = re.compile(r"ses_[0-9A-Za-z]{8,64}")


@dataclass(frozen=True)
class SessionOutcome:
    """What a session step did: the id it resumed or saved (None: nothing), and a note for the run's log."""

    session_id: str | None
    note: str = ""


def session_record(session_id: str, export: Mapping[str, Any]) -> dict[str, Any]:
    return {"harness": SESSION_KIND, "sessionId": session_id, "export": dict(export)}


def resumable_export(saved: Path | None) -> tuple[str, dict[str, Any]] | None:
    """The session id and export of a saved OpenCode session; None when there is none to resume."""
    data = load_saved_session(saved, SESSION_KIND)
    if data is None:
        return None
    session_id, export = str(data.get("sessionId") or ""), data.get("export")
    if not _SESSION_ID.fullmatch(session_id) or not isinstance(export, dict):
        return None
    info = export.get("info")
    if not isinstance(info, dict) or info.get("id") != session_id or not isinstance(export.get("messages"), list):
        return None
    return session_id, export


def _run_cli(argv: list[str], workspace: Path, env: Mapping[str, str]) -> tuple[int | None, str, str]:
    """(exit code, stdout, stderr tail) of one OpenCode command; exit code None when it ran too long."""
    lines: list[str] = []
    outcome = run_process(argv, workspace, env, SESSION_COMMAND_TIMEOUT, lambda line: lines.append(line))
    code = None if outcome.timed_out else outcome.exit_code
    return code, "\n".join(lines), outcome.stderr_tail


def import_session(
    executable: str, saved: Path | None, scratch: Path, workspace: Path, env: Mapping[str, str]
) -> SessionOutcome:
    """Import a saved session into this process's data directory; its id, or None to start afresh."""
    found = resumable_export(saved)
    if found is None:
        return SessionOutcome(None)
    session_id, export = found
    path = scratch / "session-import.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    code, _, stderr = _run_cli([executable, "import", str(path)], workspace, env)
    path.unlink(missing_ok=True)
    if code != 0:
        why = "did not finish" if code is None else f"exited with code {code}: {last_line(stderr)}"
        return SessionOutcome(None, f"opencode import {why}; the run starts a new session")
    messages = len(export.get("messages") or [])
    return SessionOutcome(session_id, f"resumed an OpenCode session of {messages} earlier messages")


def export_session(
    executable: str, out: Path | None, session_id: str | None, workspace: Path, env: Mapping[str, str]
) -> SessionOutcome:
    """Write the session OpenCode kept (`opencode export <id>`) to `out` as a saved record."""
    if out is None or not session_id or not _SESSION_ID.fullmatch(session_id):
        return SessionOutcome(None)
    code, stdout, stderr = _run_cli([executable, "export", session_id], workspace, env)
    if code != 0:
        why = "did not finish" if code is None else f"exited with code {code}: {last_line(stderr)}"
        return SessionOutcome(None, f"opencode export {why}; a revision starts a new session")
    try:
        export = json.loads(stdout[stdout.index("{") :])
    except ValueError:
        return SessionOutcome(None, "opencode export printed no session; a revision starts a new session")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(session_record(session_id, export)), encoding="utf-8")
    return SessionOutcome(session_id)
