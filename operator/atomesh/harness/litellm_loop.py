"""A small built-in agent loop over `litellm.completion`, for any provider or a LiteLLM gateway.

The model gets five tools (list/read/write/edit files, run a command), all confined to the
workspace (see workspace_tools). Each completion is one turn. Rate limits and overloads are
retried a few times, honouring retry-after, within the run's deadline; other model errors end
the run with reason ModelError. Cost comes from litellm's price table; for a model it does not
know, cost is 0 and a note says so.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
from atomesh.harness.workspace_tools import ToolPolicy, Workspace, command_env

MAX_RETRIES = 4
MAX_OUTPUT_TOKENS = 8192
SYSTEM_PROMPT = (
    "You are an agent working in a git repository (the workspace). Use the tools to inspect and change files; "
    "paths are relative to the workspace root. When the task is done, reply with a short summary and no tool call."
)
_RETRYABLE = ("RateLimitError", "InternalServerError", "ServiceUnavailableError", "APIConnectionError", "Timeout")


def litellm_model(model: str) -> str:
    """LiteLLM wants provider/model; a bare name means Anthropic."""
    return model if "/" in model else f"anthropic/{model}"


def _retry_after(error: Exception, attempt: int) -> float:
    headers = getattr(error, "litellm_response_headers", None) or {}
    try:
        return min(float(headers.get("retry-after", "")), 60.0)
    except (TypeError, ValueError):
        return min(0.5 * 2.0**attempt, 8.0)


class LiteLLMLoop:
    kind = "litellm"

    def __init__(self, access: ModelAccess) -> None:
        self.access = access
        self.notes: list[str] = []
        self.resumed = False

    def run(self, task: Task, workspace: Path, limits: HarnessLimits, env: Mapping[str, str]) -> HarnessResult:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # offline: no price-map download
        import litellm  # a heavy import, done only when this harness runs

        litellm.suppress_debug_info = True
        deadline = time.monotonic() + limits.timeout_seconds
        tools = Workspace(workspace, ToolPolicy.from_allowed(self.access.allowed_tools), env=command_env(env))
        system = "\n\n".join(text for text in (SYSTEM_PROMPT, task.system_prompt, task.context) if text)
        # A resumed session keeps its earlier turns; the system prompt is always this run's.
        earlier = load_transcript(task.resume_from)
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": system},
            *earlier,
            {"role": "user", "content": task.prompt},
        ]
        self.resumed = bool(earlier)
        if earlier:
            self.notes.append(f"resumed a session of {len(earlier)} earlier messages")
        try:
            return self._loop(litellm, messages, tools, limits, deadline)
        finally:
            save_transcript(task.session_out, messages)

    def _loop(
        self, litellm: Any, messages: list[dict[str, Any]], tools: Workspace, limits: HarnessLimits, deadline: float
    ) -> HarnessResult:
        usage = HarnessUsage()
        final_text = ""
        late = f"the run did not finish within limits.timeout ({limits.timeout_seconds:g}s)"
        while True:
            if usage.turns >= limits.max_turns:
                return self._result(usage, "MaxTurnsReached", f"the agent used all harness.maxTurns={limits.max_turns}")
            try:
                response = self._complete(litellm, messages, tools, deadline)
            except TimeoutError:
                return self._result(usage, "Timeout", late)
            except Exception as error:  # litellm raises many types; all end the run as a model error
                return self._result(usage, "ModelError", f"{type(error).__name__}: {str(error)[:300]}")
            usage = self._add_usage(litellm, usage, response)
            exceeded = limit_exceeded(usage, limits)
            if exceeded is not None:
                return self._result(usage, *exceeded)
            message = response.choices[0].message
            final_text = message.content or final_text
            calls = list(message.tool_calls or [])
            messages.append(_assistant_message(message.content, calls))
            if not calls:
                return self._result(usage, None, "", final_text)
            for call in calls:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._result(usage, "Timeout", late)
                output = tools.call(call.function.name, call.function.arguments, remaining)
                messages.append({"role": "tool", "tool_call_id": call.id, "content": output})

    def _complete(self, litellm: Any, messages: list[dict[str, Any]], tools: Workspace, deadline: float) -> Any:
        for attempt in range(MAX_RETRIES + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                return litellm.completion(
                    model=litellm_model(self.access.model),
                    messages=messages,
                    tools=tools.schemas(),
                    api_base=self.access.base_url,
                    api_key=self.access.api_key,
                    max_tokens=MAX_OUTPUT_TOKENS,
                    timeout=remaining,
                )
            except Exception as error:
                if type(error).__name__ not in _RETRYABLE or attempt == MAX_RETRIES:
                    raise
                pause = _retry_after(error, attempt)
                if time.monotonic() + pause >= deadline:
                    raise TimeoutError from error
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _add_usage(self, litellm: Any, usage: HarnessUsage, response: Any) -> HarnessUsage:
        counted = getattr(response, "usage", None)
        prompt = int(getattr(counted, "prompt_tokens", 0) or 0)
        completion = int(getattr(counted, "completion_tokens", 0) or 0)
        try:
            if self.access.price is not None:
                cost = self.access.price.cost(prompt, completion)
            else:
                cost = float(litellm.completion_cost(completion_response=response) or 0.0)
        except Exception:  # litellm raises for models missing from its price table
            cost = 0.0
            note = f"cost unknown for model {self.access.model!r}: counted as $0"
            if note not in self.notes:
                self.notes.append(note)
        return HarnessUsage(
            input_tokens=usage.input_tokens + prompt,
            output_tokens=usage.output_tokens + completion,
            cost_usd=usage.cost_usd + cost,
            turns=usage.turns + 1,
        )

    def _result(
        self, usage: HarnessUsage, reason: FailureReason | None, message: str, final_text: str = ""
    ) -> HarnessResult:
        return HarnessResult(
            usage=usage,
            exit_code=0 if reason is None else 1,
            reason=reason,
            message=message,
            final_text=final_text,
            notes=tuple(self.notes),
            resumed=self.resumed,
        )


def load_transcript(path: Path | None) -> list[dict[str, Any]]:
    """The earlier messages of a saved session, without its system prompt; [] when there is none."""
    data = load_saved_session(path, "litellm")
    if data is None:
        return []
    messages = data.get("messages")
    if not isinstance(messages, list):
        return []
    return [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant", "tool")]


def save_transcript(path: Path | None, messages: list[dict[str, Any]]) -> None:
    """The session's messages (system prompt left out: the next run brings its own), for a later resume."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = [m for m in messages if m.get("role") != "system"]
    path.write_text(json.dumps({"harness": "litellm", "messages": kept}), encoding="utf-8")


def _assistant_message(content: str | None, calls: list[Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or ""}
    if calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments or "{}"},
            }
            for call in calls
        ]
    return message


__all__ = ["LiteLLMLoop"]
