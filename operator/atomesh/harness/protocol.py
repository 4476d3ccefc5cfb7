"""One protocol for every harness: run a task in a workspace under limits, report usage and outcome.

A harness that stops for any reason other than finishing its task returns a result with a
`reason` (a CamelCase word the run's status shows) and a message a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from atomesh.api.agent import ModelPrice

FailureReason = Literal["Crashed", "MaxTurnsReached", "BudgetExceeded", "TokensExceeded", "Timeout", "ModelError"]


@dataclass(frozen=True)
class Task:
    """What the agent is asked to do: the prompt, and text appended to the harness's system prompt."""

    prompt: str
    system_prompt: str = ""
    # Organisational context (rendered text) and the read-only folders it came from, outside the workspace.
    context: str = ""
    context_dirs: tuple[Path, ...] = ()
    # A session to resume (a file the harness wrote before) and where to save this one; None: neither.
    resume_from: Path | None = None
    session_out: Path | None = None


@dataclass(frozen=True)
class HarnessLimits:
    """Limits of one harness run; exceeding one stops the harness and fails the run."""

    max_turns: int
    timeout_seconds: float
    max_cost_usd: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class ModelAccess:
    """Which model to use and how to reach it. The key never appears in repr or logs."""

    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    allowed_tools: tuple[str, ...] = ()
    price: ModelPrice | None = None  # the Agent's declared price; it wins over the harness's own table


@dataclass(frozen=True)
class HarnessUsage:
    """Usage over the whole run. `input_tokens` includes cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    turns: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class HarnessResult:
    usage: HarnessUsage
    exit_code: int | None
    reason: FailureReason | None = None
    message: str = ""
    session_id: str | None = None
    final_text: str = ""
    notes: tuple[str, ...] = ()
    resumed: bool = False  # the run continued the session in Task.resume_from (provenance shows it)

    @property
    def ok(self) -> bool:
        return self.reason is None


class Harness(Protocol):
    """A harness adapter. `env` is the base environment of the harness process (no credentials in it)."""

    kind: str

    def run(self, task: Task, workspace: Path, limits: HarnessLimits, env: Mapping[str, str]) -> HarnessResult: ...


def limit_exceeded(usage: HarnessUsage, limits: HarnessLimits) -> tuple[FailureReason, str] | None:
    """The first limit the usage went past, with a message naming the spec field to raise."""
    if usage.turns > limits.max_turns:
        return "MaxTurnsReached", f"the agent used more than harness.maxTurns={limits.max_turns} turns"
    if limits.max_cost_usd is not None and usage.cost_usd > limits.max_cost_usd:
        return (
            "BudgetExceeded",
            f"model cost ${usage.cost_usd:.4f} exceeded limits.maxCostUSD=${limits.max_cost_usd:g}",
        )
    if limits.max_tokens is not None and usage.total_tokens > limits.max_tokens:
        return "TokensExceeded", f"{usage.total_tokens} tokens exceeded limits.maxTokens={limits.max_tokens}"
    return None
