"""A run that reaches a hard limit pauses: the agent step ends with what it has, publish keeps it.

The agent step pauses when the model proxy refused a request because the run reached its cost or token
limit (the proxy writes `paused` in its directory), or when the harness itself stopped at such a limit;
it then leaves `paused.json` (reason, message) in the state directory and exits 0, so publish still runs:
publish sees the file, stores the session together with the workspace as it is (`runner.session`), and
publishes nothing. A paused run's next attempt starts from both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import Usage
from atomesh.harness.protocol import HarnessLimits, HarnessUsage

PAUSED_FILE = "paused.json"


@dataclass(frozen=True)
class Pause:
    reason: str  # one of atomesh.api.conditions.PAUSE_REASONS
    message: str


def _pause_of(text: str) -> Pause | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("reason") not in c.PAUSE_REASONS:
        return None
    return Pause(str(data["reason"]), str(data.get("message") or ""))


def proxy_pause(proxy_dir: Path | None) -> Pause | None:
    """The pause the model proxy announced (it refused a request at the run's limit), if any."""
    path = proxy_dir / k.MODEL_PROXY_PAUSED_FILE if proxy_dir is not None else None
    return _pause_of(path.read_text(encoding="utf-8")) if path is not None and path.is_file() else None


def write_pause(state_dir: Path, pause: Pause) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / PAUSED_FILE).write_text(json.dumps({"reason": pause.reason, "message": pause.message}))


def read_pause(state_dir: Path) -> Pause | None:
    path = state_dir / PAUSED_FILE
    return _pause_of(path.read_text(encoding="utf-8")) if path.is_file() else None


def remaining_limits(limits: HarnessLimits, spent: Usage | None) -> HarnessLimits:
    """The limits left to this attempt of a run whose earlier attempts spent `spent`."""
    if spent is None:
        return limits
    cost = limits.max_cost_usd - spent.cost_usd if limits.max_cost_usd is not None else None
    tokens = limits.max_tokens - (spent.input_tokens + spent.output_tokens) if limits.max_tokens is not None else None
    return HarnessLimits(
        max_turns=limits.max_turns, timeout_seconds=limits.timeout_seconds, max_cost_usd=cost, max_tokens=tokens
    )


def spent_already(limits: HarnessLimits) -> Pause | None:
    """A pause before any model request, when earlier attempts left no room (resumed without a raise)."""
    if limits.max_cost_usd is not None and limits.max_cost_usd <= 0:
        return Pause(c.BUDGET_EXCEEDED_REASON, "the run's dollar limit is spent; raise it to resume the run")
    if limits.max_tokens is not None and limits.max_tokens <= 0:
        return Pause(c.TOKENS_EXCEEDED, "the run's token limit is spent; raise it to resume the run")
    return None


def with_spent(usage: HarnessUsage, spent: Usage | None) -> HarnessUsage:
    """The run's usage over all its attempts."""
    if spent is None:
        return usage
    return HarnessUsage(
        input_tokens=usage.input_tokens + spent.input_tokens,
        output_tokens=usage.output_tokens + spent.output_tokens,
        cost_usd=usage.cost_usd + spent.cost_usd,
        turns=usage.turns + spent.turns,
    )
