"""OpenCode, headless: `opencode run --format json -m provider/model`, its JSON events parsed as they come.

OpenCode reads the provider's base URL from a config file; it is written to a private directory
(OPENCODE_CONFIG), never into the workspace, and refers to the key through {env:...} so the key
is not written to disk. Every `step_finish` event is one turn with its tokens and cost; OpenCode
has no turn or budget flag, so atomesh enforces maxTurns, maxCostUSD and maxTokens by watching
those events and stopping the process group. A revision imports the session of the run it revises
and continues it with `--session` (opencode_session).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atomesh.harness.environment import process_env, scratch_dir
from atomesh.harness.opencode_session import export_session, import_session
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

KEY_VARIABLE = "ATOMESH_OPENCODE_API_KEY"
_PERMISSIONS = ("bash", "edit", "read", "glob", "grep", "list", "webfetch", "task", "todowrite", "skill")


def provider_and_model(model: str) -> tuple[str, str]:
    """`anthropic/claude-sonnet-4-6` stays; a bare model name means the anthropic provider."""
    if "/" in model:
        provider, name = model.split("/", 1)
        return provider, name
    return "anthropic", model


def build_config(access: ModelAccess) -> dict[str, Any]:
    provider, _ = provider_and_model(access.model)
    options: dict[str, Any] = {}
    if access.base_url:
        # OpenCode's anthropic provider appends /messages to the base URL, which therefore ends in /v1.
        base = access.base_url.rstrip("/")
        options["baseURL"] = base if base.endswith("/v1") else base + "/v1"
    if access.api_key:
        options["apiKey"] = "{env:" + KEY_VARIABLE + "}"
    config: dict[str, Any] = {
        "$schema": "https://opencode.ai/config.json",
        "autoupdate": False,
        "share": "disabled",
        "provider": {provider: {"options": options}},
        "permission": {"edit": "allow", "bash": "allow", "webfetch": "deny"},
    }
    if access.allowed_tools:
        # Tools outside the list are denied; OpenCode's `edit` permission covers write and patch too.
        allowed = {re.sub(r"\(.*\)$", "", tool).strip().lower() for tool in access.allowed_tools}
        if allowed & {"write", "patch"}:
            allowed.add("edit")
        config["permission"] = {tool: "allow" if tool in allowed else "deny" for tool in _PERMISSIONS}
    return config


def build_argv(executable: str, access: ModelAccess, task: Task, resume: str | None = None) -> list[str]:
    """The command line; `resume` continues an imported session (its earlier turns come first)."""
    provider, name = provider_and_model(access.model)
    prompt = task.prompt if not task.system_prompt else f"{task.system_prompt}\n\n{task.prompt}"
    session = ["--session", resume] if resume else []
    return [executable, "run", "--format", "json", *session, "-m", f"{provider}/{name}", prompt]


@dataclass
class EventState:
    session_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns: int = 0
    last_reason: str = ""
    final_text: str = ""
    error: str = ""

    def usage(self) -> HarnessUsage:
        return HarnessUsage(
            input_tokens=self.input_tokens, output_tokens=self.output_tokens, cost_usd=self.cost_usd, turns=self.turns
        )

    def feed(self, line: str) -> None:
        event = json_event(line)
        if event is None:
            return
        self.session_id = event.get("sessionID") or self.session_id
        part = event.get("part") or {}
        kind = event.get("type")
        if kind == "step_finish":
            tokens = part.get("tokens") or {}
            cache = tokens.get("cache") or {}
            self.turns += 1
            self.input_tokens += int(tokens.get("input") or 0) + int(cache.get("read") or 0)
            self.input_tokens += int(cache.get("write") or 0)
            self.output_tokens += int(tokens.get("output") or 0) + int(tokens.get("reasoning") or 0)
            self.cost_usd += float(part.get("cost") or 0.0)
            self.last_reason = str(part.get("reason") or "")
        elif kind == "text":
            self.final_text = str(part.get("text") or self.final_text)
        elif kind == "error":
            self.error = _error_text(event.get("error") or part)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        data = error.get("data") or {}
        message = data.get("message") if isinstance(data, dict) else None
        return str(message or error.get("message") or error.get("name") or json.dumps(error)[:300])
    return str(error)


def stop_reason(state: EventState, limits: HarnessLimits) -> str | None:
    """Stop once the turn budget is spent and the model still wants to go on, or a limit is passed."""
    if state.turns >= limits.max_turns and state.last_reason not in ("stop", ""):
        return f"the agent used more than harness.maxTurns={limits.max_turns} turns"
    exceeded = limit_exceeded(state.usage(), limits)
    return exceeded[1] if exceeded else None


class OpenCode:
    kind = "opencode"

    def __init__(self, access: ModelAccess, executable: str | None = None) -> None:
        self.access = access
        self.executable = executable or shutil.which("opencode") or "opencode"

    def run(self, task: Task, workspace: Path, limits: HarnessLimits, env: Mapping[str, str]) -> HarnessResult:
        state = EventState()
        reasons: list[FailureReason] = []
        notes: list[str] = []

        def on_line(line: str) -> str | None:
            state.feed(line)
            stop = stop_reason(state, limits)
            if stop is not None:
                exceeded = limit_exceeded(state.usage(), limits)
                reasons.append(exceeded[0] if exceeded else "MaxTurnsReached")
            return stop

        with scratch_dir(env, "atomesh-opencode-") as scratch:
            child_env = process_env(env, scratch, workspace)
            config_path = scratch / "opencode.json"
            config = build_config(self.access)
            if task.context:  # OpenCode adds `instructions` files to its system prompt
                instructions = scratch / "context.md"
                instructions.write_text(task.context, encoding="utf-8")
                config["instructions"] = [str(instructions)]
            config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
            child_env["OPENCODE_CONFIG"] = str(config_path)
            child_env["OPENCODE_DISABLE_MODELS_FETCH"] = "1"
            child_env["OPENCODE_DISABLE_AUTOUPDATE"] = "1"
            if self.access.api_key:
                child_env[KEY_VARIABLE] = self.access.api_key
            started = time.monotonic()
            imported = import_session(self.executable, task.resume_from, scratch, workspace, child_env)
            notes += [imported.note] if imported.note else []
            argv = build_argv(self.executable, self.access, task, imported.session_id)
            remaining = max(1.0, limits.timeout_seconds - (time.monotonic() - started))
            outcome = run_process(argv, workspace, child_env, remaining, on_line)
            if not outcome.timed_out:  # a run past its deadline is not revised; do not extend it further
                exported = export_session(self.executable, task.session_out, state.session_id, workspace, child_env)
                notes += [exported.note] if exported.note else []
        reason: FailureReason | None = None
        message = ""
        if outcome.timed_out:
            reason, message = "Timeout", f"opencode did not finish within limits.timeout ({limits.timeout_seconds:g}s)"
        elif outcome.stopped is not None:
            reason, message = reasons[0], outcome.stopped
        elif state.error:
            reason, message = "ModelError", f"opencode reported an error: {state.error}"
        elif outcome.exit_code != 0:
            stderr = last_line(outcome.stderr_tail)
            reason, message = "Crashed", f"opencode exited with code {outcome.exit_code}: {stderr}"
        elif state.turns == 0:
            reason, message = "ModelError", "opencode finished without a single model turn"
        return HarnessResult(
            usage=state.usage(),
            exit_code=outcome.exit_code,
            reason=reason,
            message=message,
            session_id=state.session_id,
            final_text=state.final_text,
            notes=tuple(notes),
            resumed=imported.session_id is not None,
        )
