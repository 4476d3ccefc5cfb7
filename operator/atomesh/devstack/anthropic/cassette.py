"""The script an emulated model follows: a YAML cassette of turns.

A cassette is a list of turns. Each request to /v1/messages consumes the earliest turn that
is eligible: turns without `match` are taken in order, and only by requests of the agent
conversation (requests that carry tools), so side calls such as OpenCode's title generation
do not eat the script; turns with `match` are taken whenever their content condition holds.
A request no turn fits gets the cassette's `default` reply when it names one (a cassette whose
agent loops end on a harmless "OK." once the script is used up says so). Without a `default`,
a request of the agent conversation that no turn fits is refused with a 400 whose message says
"no scripted turn for this request (agent ..., last message ...)", so the harness fails the run
with that reason instead of an agent silently "succeeding" on a reply nobody wrote; a side call
gets that sentence as its text.

    turns:
      - error: 429            # fault injection: answer 429 twice, then go on
        times: 2
        retryAfter: 0
      - tools:
          - {tool: write_file, input: {path: hello.txt, content: "hi\\n"}}
      - match: {contains: "hello.txt"}
        text: Done.
        usage: {input_tokens: 1200, output_tokens: 30}
    default: {text: OK.}      # optional: the reply to requests no turn fits
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

ErrorStatus = Literal[400, 401, 404, 429, 500, 529]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class ToolCall(_Model):
    """One tool_use block. `tool` is a harness tool name, or a generic one mapped per harness."""

    tool: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)


class Match(_Model):
    """Content conditions; all given ones must hold."""

    contains: str | None = None  # in the last user message, tool results included
    task_contains: str | None = None  # in the first user message, where every harness puts the task
    system_contains: str | None = None  # in the system prompt
    harness: str | None = None  # claude-code, opencode, litellm or unknown
    tools: bool | None = None  # whether the request carries tools
    tool_result: bool | None = None  # whether the last user message returns a tool result


@dataclass(frozen=True)
class RequestFacts:
    """What a turn can be matched on."""

    last_user_text: str = ""
    first_user_text: str = ""
    system_text: str = ""
    harness: str = "unknown"
    has_tools: bool = False
    has_tool_result: bool = False
    agent: str = ""  # the atomesh agent's name, when the prompt announces it


_AGENT = re.compile(r"atomesh agent '([^']+)'")
_SHOWN_CHARS = 60


def agent_name(*texts: str) -> str:
    """The agent's name from the first prompt text that announces it (the runner's system prompt,
    which OpenCode sends in the first user message), else ""."""
    for text in texts:
        found = _AGENT.search(text)
        if found:
            return found.group(1)
    return ""


def unmatched(facts: RequestFacts) -> str:
    """The answer to a request no turn fits: short, as harnesses cut error messages at a few hundred
    characters, and naming what a cassette author needs to write the missing turn."""
    last = " ".join(facts.last_user_text.split())
    if len(last) > _SHOWN_CHARS:
        last = last[: _SHOWN_CHARS - 1] + "…"
    agent = f"agent {facts.agent!r}" if facts.agent else "no atomesh agent named"
    return f"no scripted turn for this request ({agent}, harness {facts.harness}, last message {last!r})"


class Usage(_Model):
    """Usage reported for a reply; unset fields are estimated from the text sizes."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    input_tokens: int | None = Field(default=None, ge=0)
    output_tokens: int | None = Field(default=None, ge=0)
    cache_creation_input_tokens: int = Field(default=0, ge=0)
    cache_read_input_tokens: int = Field(default=0, ge=0)


class Reply(_Model):
    """What the model says: text and/or tool calls."""

    text: str | None = None
    tools: list[ToolCall] = Field(default_factory=list)
    stop_reason: str | None = None  # default: tool_use when tools are called, else end_turn
    usage: Usage = Field(default_factory=Usage)


class Turn(Reply):
    """A reply, or an injected error, answered `times` times (0 = for ever)."""

    match: Match | None = None
    error: ErrorStatus | None = None
    message: str | None = None  # error message
    retry_after: int | None = Field(default=None, ge=0)  # seconds, on 429 and 529
    times: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _reply_or_error(self) -> Turn:
        if self.error is None and self.text is None and not self.tools:
            raise ValueError("a turn needs text, tools or error (e.g. `text: Done.` or `error: 429`)")
        return self


class Cassette(_Model):
    turns: list[Turn] = Field(default_factory=list)
    default: Reply | None = None  # None: no scripted turn is an error (see the module docstring)


def load_cassette(source: Cassette | dict[str, Any] | list[Any] | str | Path) -> Cassette:
    """A cassette from a model, a dict, a bare list of turns, or a YAML file path."""
    if isinstance(source, Cassette):
        return source
    data = yaml.safe_load(Path(source).read_text(encoding="utf-8")) if isinstance(source, str | Path) else source
    if isinstance(data, list):
        data = {"turns": data}
    return Cassette.model_validate(data or {})


class Script:
    """A cassette being played: which turns are used up. Thread-safe."""

    def __init__(self, cassette: Cassette) -> None:
        self.cassette = cassette
        self._used = [0] * len(cassette.turns)
        self._lock = threading.Lock()

    def next_turn(self, facts: RequestFacts) -> tuple[int, Turn] | None:
        """Consume and return the turn for a request, or None for the default reply."""
        with self._lock:
            in_order_seen = False
            for index, turn in enumerate(self.cassette.turns):
                exhausted = turn.times and self._used[index] >= turn.times
                if turn.match is None:
                    if exhausted:
                        continue
                    if in_order_seen or not facts.has_tools:
                        continue
                    in_order_seen = True
                    chosen = True
                else:
                    chosen = not exhausted and _matches(turn.match, facts)
                if chosen:
                    self._used[index] += 1
                    return index, turn
            return None

    @property
    def remaining(self) -> int:
        """Turns not yet used up (for-ever turns never count as remaining)."""
        with self._lock:
            pairs = zip(self.cassette.turns, self._used, strict=True)
            return sum(1 for turn, used in pairs if turn.times and used < turn.times)


def _matches(match: Match, facts: RequestFacts) -> bool:
    if match.contains is not None and match.contains not in facts.last_user_text:
        return False
    if match.task_contains is not None and match.task_contains not in facts.first_user_text:
        return False
    if match.system_contains is not None and match.system_contains not in facts.system_text:
        return False
    if match.harness is not None and match.harness != facts.harness:
        return False
    if match.tool_result is not None and match.tool_result != facts.has_tool_result:
        return False
    return match.tools is None or match.tools == facts.has_tools
