"""The model proxy's pure decisions: which requests a run's token allows, and usage read from answers."""

from __future__ import annotations

import json

import pytest

from atomesh.api.agent import ModelPrice
from atomesh.core.modelgrant import ModelGrant, StreamUsage, UsageMeter, usage_of_message

GRANT = ModelGrant(model="anthropic/claude-sonnet-4-5", expires_at=100.0, max_tokens=1000)


def test_the_granted_model_with_or_without_its_provider_prefix() -> None:
    meter = UsageMeter(GRANT)
    assert meter.refusal("claude-sonnet-4-5", now=1.0) is None
    assert meter.refusal("anthropic/claude-sonnet-4-5", now=1.0) is None
    for other in ("claude-opus-4-1", None, 42, ""):
        refusal = meter.refusal(other, now=1.0)
        assert refusal is not None
        assert (refusal.status, refusal.error_type) == (403, "permission_error")
        assert "spec.harness.model" in refusal.message


def test_expiry_and_token_limit() -> None:
    meter = UsageMeter(GRANT)
    expired = meter.refusal("claude-sonnet-4-5", now=100.0)
    assert expired is not None
    assert expired.status == 401
    meter.add(900, 99)
    assert meter.refusal("claude-sonnet-4-5", now=1.0) is None
    meter.add(0, 1)
    spent = meter.refusal("claude-sonnet-4-5", now=1.0)
    assert spent is not None
    assert "1000 tokens of its limit of 1000 (limits.maxTokens" in spent.message
    # A reached limit pauses the run: refused as an account out of credit, never to be retried.
    assert (spent.status, spent.pause) == (402, "TokensExceeded")
    assert spent.body() == {"type": "error", "error": {"type": "billing_error", "message": spent.message}}
    assert spent.headers() == {"x-should-retry": "false"}
    assert expired.headers() == {}


def test_cost_limit_needs_a_price() -> None:
    priced = ModelGrant(
        model="m", expires_at=100.0, max_cost_usd=0.5, price=ModelPrice(inputUSDPerMTok=1, outputUSDPerMTok=1)
    )
    meter = UsageMeter(priced)
    meter.add(250_000, 250_000)
    spent = meter.refusal("m", now=1.0)
    assert spent is not None
    assert "$0.5000 of its limit of $0.5 (limits.maxCostUSD" in spent.message
    assert (spent.status, spent.error_type, spent.pause) == (402, "billing_error", "BudgetExceeded")
    unpriced = UsageMeter(ModelGrant(model="m", expires_at=100.0, max_cost_usd=0.5))
    unpriced.add(10**9, 10**9)
    assert unpriced.refusal("m", now=1.0) is None  # no price: the token limit is what holds


def test_usage_of_a_json_answer_counts_cache_tokens_as_input() -> None:
    body = {
        "usage": {
            "input_tokens": 10,
            "cache_read_input_tokens": 5,
            "cache_creation_input_tokens": 2,
            "output_tokens": 7,
        }
    }
    assert usage_of_message(json.dumps(body).encode()) == (17, 7)
    assert usage_of_message(b"not json") == (0, 0)
    assert usage_of_message(b"[1]") == (0, 0)


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_stream_usage_from_events_split_anywhere(size: int) -> None:
    events = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "hi" * 200}},
        {"type": "message_delta", "usage": {"output_tokens": 30}},
        {"type": "message_stop"},
    ]
    raw = "".join(f"event: {e['type']}\r\ndata: {json.dumps(e)}\r\n\r\n" for e in events).encode()
    usage = StreamUsage()
    for start in range(0, len(raw), size):
        usage.feed(raw[start : start + size])
    usage.close()
    assert (usage.input_tokens, usage.output_tokens) == (12, 30)  # the answer's own count, not an estimate


def test_a_stream_cut_short_is_counted_from_what_it_streamed() -> None:
    usage = StreamUsage()
    start = {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}}
    delta = {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x" * 400}}
    usage.feed(f"data: {json.dumps(start)}\n\ndata: {json.dumps(delta)}\n\n".encode())
    usage.close()  # the caller left: no message_delta
    assert (usage.input_tokens, usage.output_tokens) == (12, 100)
