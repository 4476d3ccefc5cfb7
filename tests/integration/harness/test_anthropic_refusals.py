"""What the emulator refuses, as the API refuses it, seen through the anthropic SDK: the exception
class, the error body (`type`, `error.type`, `error.message`, `request_id`) and the headers."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from tests.fixtures.anthropic import StartEmulator

pytestmark = pytest.mark.integration

HELLO: list[Any] = [{"role": "user", "content": "Hello"}]


def client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-refusals", max_retries=0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        (
            {"max_tokens": 64_001},
            "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5",
        ),
        ({"temperature": 5}, "temperature: Input should be less than or equal to 1"),
        ({"temperature": -0.1}, "temperature: Input should be greater than or equal to 0"),
        ({"top_p": 1.5}, "top_p: Input should be less than or equal to 1"),
        ({"messages": [{"role": "assistant", "content": "Hi"}]}, 'messages: first message must use the "user" role'),
        ({"messages": []}, "messages: at least one message is required"),
    ],
)
def test_out_of_range_requests_are_400(anthropic_emulator: StartEmulator, params: dict[str, Any], message: str) -> None:
    emulator = anthropic_emulator([])
    # As extra_body: this SDK release types neither temperature nor top_p, and refuses a large
    # max_tokens without streaming before sending it; LiteLLM and older clients still send them.
    with pytest.raises(anthropic.BadRequestError) as refused:
        client(emulator.url).messages.create(
            model="claude-sonnet-4-5", max_tokens=16, messages=HELLO, extra_body=params
        )
    body = refused.value.body
    assert body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": refused.value.request_id,
    }
    assert [r.status for r in emulator.requests] == [400]


def test_an_unknown_model_is_404_naming_it(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    sdk = client(emulator.url)
    with pytest.raises(anthropic.NotFoundError) as refused:
        sdk.messages.create(model="claude-made-up-9", max_tokens=16, messages=HELLO)
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: claude-made-up-9"},
        "request_id": refused.value.request_id,
    }
    with pytest.raises(anthropic.NotFoundError, match="claude-made-up-9"):
        sdk.models.retrieve("claude-made-up-9")
    with pytest.raises(anthropic.NotFoundError, match="claude-made-up-9"):
        sdk.messages.count_tokens(model="claude-made-up-9", messages=HELLO)


def test_missing_messages_is_400(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    body = {"model": "claude-sonnet-4-5", "max_tokens": 16}
    refused = httpx.post(f"{emulator.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert refused.status_code == 400
    assert refused.json()["error"] == {"type": "invalid_request_error", "message": "messages: Field required"}


def test_every_response_has_its_own_request_id_and_rate_limits(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    sdk = client(emulator.url)
    raws = [sdk.messages.with_raw_response.create(model="emulator-small", max_tokens=16, messages=HELLO) for _ in "ab"]
    ids = {raw.headers["request-id"] for raw in raws}
    assert len(ids) == 2
    assert all(rid.startswith("req_") for rid in ids)
    assert raws[1].parse()._request_id == raws[1].headers["request-id"]
    first, second = (raw.headers for raw in raws)
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert int(first[f"anthropic-ratelimit-{kind}-limit"]) > 0
        assert f"anthropic-ratelimit-{kind}-reset" in first
    # Within one window a second request leaves less; across a window boundary the count restarts.
    same_window = first["anthropic-ratelimit-requests-reset"] == second["anthropic-ratelimit-requests-reset"]
    remaining = [int(h["anthropic-ratelimit-requests-remaining"]) for h in (first, second)]
    assert remaining[1] == (remaining[0] - 1 if same_window else int(second["anthropic-ratelimit-requests-limit"]) - 1)


def test_429_and_529_say_when_to_come_back(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator(
        {"turns": [{"match": {"contains": "limit"}, "error": 429}, {"match": {"contains": "busy"}, "error": 529}]}
    )
    sdk = client(emulator.url)
    with pytest.raises(anthropic.RateLimitError) as limited:
        sdk.messages.create(model="emulator-small", max_tokens=8, messages=[{"role": "user", "content": "limit"}])
    assert limited.value.response.headers["retry-after"] == "1"
    with pytest.raises(anthropic.APIStatusError) as busy:
        sdk.messages.create(model="emulator-small", max_tokens=8, messages=[{"role": "user", "content": "busy"}])
    assert busy.value.status_code == 529
    assert busy.value.response.headers["retry-after"] == "1"


def test_models_are_listed_as_the_sdk_types_them(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    models = {model.id: model for model in client(emulator.url).models.list()}
    for name in ("claude-sonnet-4-5", "claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-5", "claude-opus-4-1"):
        assert models[name].lifecycle == "active"
    assert {"emulator-large", "emulator-medium", "emulator-small"} <= set(models)
