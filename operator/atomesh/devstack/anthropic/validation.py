"""The requests the Messages API refuses, refused the same way: 400 invalid_request_error for a
malformed request or a parameter out of its documented range, 404 not_found_error for a model that
does not exist. Messages name the field first (`max_tokens: ...`), as the API's do.

Documented ranges: `max_tokens` at least 1 and at most the model's maximum output; `temperature`
and `top_p` from 0 to 1; `messages` non-empty, alternating from a first `user` turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atomesh.devstack.anthropic import catalogue


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def _invalid(message: str) -> Refusal:
    return Refusal(400, message)


def _number(name: str, value: Any) -> Refusal | None:
    """A sampling parameter, when given, is a number from 0 to 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _invalid(f"{name}: Input should be a valid number")
    if value < 0:
        return _invalid(f"{name}: Input should be greater than or equal to 0")
    if value > 1:
        return _invalid(f"{name}: Input should be less than or equal to 1")
    return None


def _messages(messages: Any) -> Refusal | None:
    if messages is None:
        return _invalid("messages: Field required")
    if not isinstance(messages, list):
        return _invalid("messages: Input should be a valid list")
    if not messages:
        return _invalid("messages: at least one message is required")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return _invalid(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        if "content" not in message:
            return _invalid(f"messages.{index}.content: Field required")
    if messages[0]["role"] != "user":
        return _invalid('messages: first message must use the "user" role')
    return None


def _model(body: dict[str, Any]) -> tuple[catalogue.Model | None, Refusal | None]:
    name = body.get("model")
    if not isinstance(name, str) or not name:
        return None, _invalid("model: Field required")
    model = catalogue.find(name)
    if model is None:
        return None, Refusal(404, f"model: {name}")
    return model, None


def check_message_request(body: Any) -> Refusal | None:
    """What POST /v1/messages refuses, or None for a request it accepts."""
    if not isinstance(body, dict):
        return _invalid("request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _invalid("model: Field required")
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        return _invalid("max_tokens: Field required")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        return _invalid("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        return _invalid("max_tokens: Input should be greater than or equal to 1")
    problem = _messages(body.get("messages")) or _number("temperature", body.get("temperature"))
    problem = problem or _number("top_p", body.get("top_p"))
    if problem is not None:
        return problem
    model, unknown = _model(body)
    if unknown is not None or model is None:
        return unknown
    if max_tokens > model.max_tokens:
        return _invalid(
            f"max_tokens: {max_tokens} > {model.max_tokens}, which is the maximum allowed number of output tokens "
            f"for {model.id}"
        )
    return None


def check_count_request(body: Any) -> Refusal | None:
    """What POST /v1/messages/count_tokens refuses: it takes a request without `max_tokens`."""
    if not isinstance(body, dict):
        return _invalid("request body must be a JSON object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        return _invalid("model: Field required")
    problem = _messages(body.get("messages"))
    if problem is not None:
        return problem
    return _model(body)[1]
