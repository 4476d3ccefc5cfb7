"""What a run may ask of the model, and the metering that enforces it: pure decisions of the model proxy.

The model proxy holds the real model key; the agent step holds only a per-run token. A `ModelGrant` is
what that token allows: one model (as the Agent names it, with or without a `provider/` prefix), until an
expiry (the run's timeout after the proxy starts), within the run's token and cost limits.

Invariants:
- `refusal` is checked before every request is forwarded; once a limit is reached, every later request
  is refused, so a run overshoots a limit by at most the one answer that crossed it.
- A limit reached is a pause, not a failure: it is refused as Anthropic refuses an account out of credit
  (402 `billing_error`) with `x-should-retry: false`, which the Anthropic SDKs, Claude Code, OpenCode
  (a 4xx other than 408/409/429) and LiteLLM do not retry, so the harness ends at that turn boundary;
  the refusal names the run's pause reason (`pause`), which the proxy tells the agent step.
- A resumed run's meter starts from the spend of its earlier attempts, so its limits hold for the run.
- Usage is counted from the upstream's own answers (`message_start` / `message_delta` events of a stream,
  or the `usage` of a JSON answer), never from what the agent claims.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.agent import ModelPrice

# Anthropic's error types (https://docs.anthropic.com/en/api/errors), as the proxy answers refusals.
AUTHENTICATION_ERROR = "authentication_error"
PERMISSION_ERROR = "permission_error"
NOT_FOUND_ERROR = "not_found_error"
INVALID_REQUEST_ERROR = "invalid_request_error"
BILLING_ERROR = "billing_error"
# Honoured by the Anthropic SDKs' and Claude Code's retry logic (`x-should-retry: false`: never retry).
NO_RETRY_HEADERS = {"x-should-retry": "false"}
# A rough lower bound of characters per output token, for streams cut short before their usage.
CHARS_PER_TOKEN = 4
_DELTA_TEXT = ("text", "partial_json", "thinking")
# Seconds a grant outlives the run's timeout: the step's own clock starts a little after the proxy's.
EXPIRY_GRACE_SECONDS = 60.0


@dataclass(frozen=True)
class Refusal:
    """Why a request is not forwarded: an HTTP status and an Anthropic error type and message."""

    status: int
    error_type: str
    message: str
    pause: str = ""  # a limit was reached: the run's Paused reason (atomesh.api.conditions.PAUSE_REASONS)

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.error_type, "message": self.message}}

    def headers(self) -> dict[str, str]:
        return dict(NO_RETRY_HEADERS) if self.pause else {}


def bare_model(name: str) -> str:
    """`anthropic/claude-x` and `claude-x` name the same model: the API sees the part after the prefix."""
    return name.partition("/")[2] or name


@dataclass(frozen=True)
class ModelGrant:
    model: str
    expires_at: float
    max_tokens: int | None = None
    max_cost_usd: float | None = None
    price: ModelPrice | None = None
    cost_from: str = "limits.maxCostUSD, budget.perRun.usd"  # where the limits come from, for the refusal
    tokens_from: str = "limits.maxTokens, budget.perRun.tokens"

    def allows_model(self, requested: object) -> bool:
        return isinstance(requested, str) and bare_model(requested) == bare_model(self.model)


@dataclass
class UsageMeter:
    """Tokens and cost of the answers forwarded so far under one grant."""

    grant: ModelGrant
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> float:
        price = self.grant.price
        return price.cost(self.input_tokens, self.output_tokens) if price is not None else 0.0

    def add(self, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += max(input_tokens, 0)
        self.output_tokens += max(output_tokens, 0)

    def refusal(self, requested_model: object, now: float) -> Refusal | None:
        """Why the next request must not be forwarded, or None."""
        grant = self.grant
        if now >= grant.expires_at:
            return Refusal(401, AUTHENTICATION_ERROR, "the run's model token has expired (limits.timeout)")
        if not grant.allows_model(requested_model):
            return Refusal(
                403,
                PERMISSION_ERROR,
                f"this run may use model {bare_model(grant.model)!r} only (spec.harness.model), "
                f"not {requested_model!r}",
            )
        if grant.max_tokens is not None and self.total_tokens >= grant.max_tokens:
            message = (
                f"the run has used {self.total_tokens} tokens of its limit of {grant.max_tokens} "
                f"({grant.tokens_from}); it is paused"
            )
            return Refusal(402, BILLING_ERROR, message, pause=c.TOKENS_EXCEEDED)
        if grant.max_cost_usd is not None and grant.price is not None and self.cost_usd >= grant.max_cost_usd:
            message = (
                f"the run has spent ${self.cost_usd:.4f} of its limit of ${grant.max_cost_usd:g} "
                f"({grant.cost_from}); it is paused"
            )
            return Refusal(402, BILLING_ERROR, message, pause=c.BUDGET_EXCEEDED_REASON)
        return None


def _usage_tokens(usage: object) -> tuple[int, int]:
    if not isinstance(usage, dict):
        return 0, 0
    counted = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    input_tokens = sum(v for key in counted if isinstance(v := usage.get(key), int))
    output = usage.get("output_tokens")
    return input_tokens, output if isinstance(output, int) else 0


def usage_of_message(body: bytes) -> tuple[int, int]:
    """(input, output) tokens of a non-streaming Messages answer; (0, 0) when it carries none."""
    try:
        message = json.loads(body)
    except ValueError:
        return 0, 0
    return _usage_tokens(message.get("usage")) if isinstance(message, dict) else (0, 0)


@dataclass
class StreamUsage:
    """Reads the usage out of a Messages event stream fed in arbitrary chunks.

    `message_start` carries the input tokens (and a first output count); each `message_delta` carries
    the cumulative output tokens, so the last one wins. A stream cut short (the caller left) never
    sees its last `message_delta`: its output is then estimated from the text streamed so far
    (CHARS_PER_TOKEN), so leaving early cannot dodge a token or cost limit.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    streamed_chars: int = 0
    counted: bool = False  # a message_delta carried the answer's own output count
    _pending: bytes = field(default=b"", repr=False)

    def feed(self, chunk: bytes) -> None:
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            self._line(line.rstrip(b"\r"))

    def close(self) -> None:
        if self._pending:
            self._line(self._pending.rstrip(b"\r"))
            self._pending = b""
        if not self.counted:
            self.output_tokens = max(self.output_tokens, self.streamed_chars // CHARS_PER_TOKEN)

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        try:
            event = json.loads(line[5:])
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        if event.get("type") == "message_start" and isinstance(event.get("message"), dict):
            self.input_tokens, self.output_tokens = _usage_tokens(event["message"].get("usage"))
        elif event.get("type") == "content_block_delta" and isinstance(event.get("delta"), dict):
            delta = event["delta"]
            self.streamed_chars += sum(len(v) for k in _DELTA_TEXT if isinstance(v := delta.get(k), str))
        elif event.get("type") == "message_delta":
            input_tokens, output_tokens = _usage_tokens(event.get("usage"))
            self.counted = True
            self.input_tokens = max(self.input_tokens, input_tokens)
            self.output_tokens = max(self.output_tokens, output_tokens)
