"""Claude Code, headless: `claude -p` with stream-json output, parsed as it arrives.

Claude Code enforces --max-turns and --max-budget-usd itself and says so in its final
`result` message (subtype error_max_turns / error_max_budget_usd); atomesh additionally
watches turns and tokens in the stream, and the deadline, and kills the process group.
"""

from __future__ import annotations

import glob
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomesh.harness.environment import process_env, running_as_root, scratch_dir
from atomesh.harness.process import json_event, last_line, run_process
from atomesh.harness.protocol import (
    FailureReason,
    HarnessLimits,
    HarnessResult,
    HarnessUsage,
    ModelAccess,
    Task,
    limit_exceeded,
)
from atomesh.harness.saved_session import load_saved_session

SESSION_KIND = "claude-code"
_RESULT_REASONS: dict[str, FailureReason] = {
    "error_max_turns": "MaxTurnsReached",
    "error_max_budget_usd": "BudgetExceeded",
    "error_during_execution": "Crashed",
}


def build_argv(
    executable: str, access: ModelAccess, limits: HarnessLimits, task: Task, resume: str | None = None
) -> list[str]:
    """The command line; the prompt goes on stdin so no option can swallow it. The session is kept only
    when the task asks for it (`session_out`), and `resume` continues an earlier one."""
    argv = [executable, "-p", "--output-format", "stream-json", "--verbose"]
    if task.session_out is None:
        argv.append("--no-session-persistence")
    if resume:
        argv += ["--resume", resume]
    argv += [
        "--max-turns",
        str(limits.max_turns),
        "--model",
        access.model,
    ]
    if limits.max_cost_usd is not None:
        argv += ["--max-budget-usd", f"{limits.max_cost_usd:g}"]
    appended = "\n\n".join(text for text in (task.system_prompt, task.context) if text)
    if appended:
        argv += ["--append-system-prompt", appended]
    for folder in task.context_dirs:  # the context's own files, readable but outside the workspace
        argv += ["--add-dir", str(folder)]
    if access.allowed_tools:
        # Only the listed tools run; anything else is denied instead of prompting.
        argv += ["--permission-mode", "dontAsk", "--allowedTools", ",".join(access.allowed_tools)]
    else:
        argv += ["--permission-mode", "bypassPermissions"]
    return argv


@dataclass
class StreamState:
    """What the stream-json output told so far."""

    session_id: str | None = None
    assistant_ids: set[str] = field(default_factory=set)
    input_tokens: int = 0
    output_tokens: int = 0
    result: dict[str, Any] | None = None

    def usage(self) -> HarnessUsage:
        if self.result is not None:
            return usage_of_result(self.result)
        return HarnessUsage(
            input_tokens=self.input_tokens, output_tokens=self.output_tokens, turns=len(self.assistant_ids)
        )

    def feed(self, line: str) -> None:
        event = json_event(line)
        if event is None:
            return
        kind = event.get("type")
        self.session_id = event.get("session_id") or self.session_id
        if kind == "assistant":
            message = event.get("message") or {}
            message_id = str(message.get("id", ""))
            if message_id and message_id not in self.assistant_ids:
                self.assistant_ids.add(message_id)
                self.input_tokens += _input_tokens(message.get("usage") or {})
                self.output_tokens += int((message.get("usage") or {}).get("output_tokens") or 0)
        elif kind == "result":
            self.result = event


def _input_tokens(usage: Mapping[str, Any]) -> int:
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    return sum(int(usage.get(key) or 0) for key in keys)


def usage_of_result(result: Mapping[str, Any]) -> HarnessUsage:
    usage = result.get("usage") or {}
    return HarnessUsage(
        input_tokens=_input_tokens(usage),
        output_tokens=int(usage.get("output_tokens") or 0),
        cost_usd=float(result.get("total_cost_usd") or 0.0),
        turns=int(result.get("num_turns") or 0),
    )


def interpret(state: StreamState, exit_code: int | None, stderr_tail: str) -> tuple[FailureReason | None, str]:
    """Reason and message from the final result message (or its absence)."""
    result = state.result
    if result is None:
        return "Crashed", f"claude exited with code {exit_code} before its result message: {last_line(stderr_tail)}"
    subtype = str(result.get("subtype", ""))
    if subtype in _RESULT_REASONS:
        errors = "; ".join(str(e) for e in result.get("errors") or [])
        return _RESULT_REASONS[subtype], f"claude stopped: {subtype}" + (f" ({errors})" if errors else "")
    if result.get("is_error"):
        return "ModelError", f"claude reported an error: {str(result.get('result', ''))[:300]}"
    if exit_code not in (0, None):
        return "Crashed", f"claude exited with code {exit_code}"
    return None, ""


def project_dir(home: Path, workspace: Path) -> Path:
    """Where Claude Code keeps the sessions of a working directory: its path with every other character a dash."""
    return home / ".claude" / "projects" / re.sub(r"[^a-zA-Z0-9]", "-", str(workspace.resolve()))


def restore_session(saved: Path | None, home: Path, workspace: Path) -> str | None:
    """Put a saved Claude Code session where `--resume` finds it for this workspace; its id, or None."""
    data = load_saved_session(saved, SESSION_KIND)
    if data is None:
        return None
    session_id, transcript = str(data.get("sessionId") or ""), data.get("transcript")
    if not re.fullmatch(r"[0-9a-fA-F-]{8,64}", session_id) or not isinstance(transcript, str):
        return None
    target = project_dir(home, workspace)
    target.mkdir(parents=True, exist_ok=True)
    (target / f"{session_id}.jsonl").write_text(transcript, encoding="utf-8")
    return session_id


def save_session(out: Path | None, home: Path, session_id: str | None) -> None:
    """Copy the session Claude Code wrote (`<home>/.claude/projects/*/<id>.jsonl`) to `out`."""
    if out is None or not session_id:
        return
    found = next((home / ".claude" / "projects").glob(f"*/{glob.escape(session_id)}.jsonl"), None)
    if found is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"harness": SESSION_KIND, "sessionId": session_id, "transcript": found.read_text(encoding="utf-8")}
    out.write_text(json.dumps(record), encoding="utf-8")


class ClaudeCode:
    kind = "claude-code"

    def __init__(self, access: ModelAccess, executable: str | None = None) -> None:
        self.access = access
        self.executable = executable or shutil.which("claude") or "claude"

    def run(self, task: Task, workspace: Path, limits: HarnessLimits, env: Mapping[str, str]) -> HarnessResult:
        state = StreamState()

        def on_line(line: str) -> str | None:
            state.feed(line)
            exceeded = limit_exceeded(state.usage(), limits) if state.result is None else None
            return exceeded[1] if exceeded else None

        with scratch_dir(env, "atomesh-claude-") as scratch:
            child_env = process_env(env, scratch, workspace)
            child_env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
            child_env["DISABLE_AUTOUPDATER"] = "1"
            if self.access.base_url:
                child_env["ANTHROPIC_BASE_URL"] = self.access.base_url
            if self.access.api_key:
                child_env["ANTHROPIC_API_KEY"] = self.access.api_key
            if running_as_root():
                child_env["IS_SANDBOX"] = "1"  # Claude Code refuses to bypass permissions as root otherwise
            home = Path(child_env["HOME"])
            resume = restore_session(task.resume_from, home, workspace)
            argv = build_argv(self.executable, self.access, limits, task, resume)
            outcome = run_process(argv, workspace, child_env, limits.timeout_seconds, on_line, stdin_text=task.prompt)
            save_session(task.session_out, home, state.session_id)
        usage = state.usage()
        reason: FailureReason | None
        if outcome.timed_out:
            reason, message = "Timeout", f"claude did not finish within limits.timeout ({limits.timeout_seconds:g}s)"
        elif outcome.stopped is not None:
            reason, message = (limit_exceeded(usage, limits) or ("Crashed", outcome.stopped))[0], outcome.stopped
        else:
            reason, message = interpret(state, outcome.exit_code, outcome.stderr_tail)
            if reason is None and (exceeded := limit_exceeded(usage, limits)):
                reason, message = exceeded
        final_text = str((state.result or {}).get("result", ""))
        return HarnessResult(
            usage=usage,
            exit_code=outcome.exit_code,
            reason=reason,
            message=message,
            session_id=state.session_id,
            final_text=final_text,
            resumed=resume is not None,
        )
