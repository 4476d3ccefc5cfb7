"""Hold one response of the Anthropic emulator to the anthropic SDK's own models, at the pinned SDK
version, in strict mode: the body is validated with `model_validate_json(..., strict=True)` and any
field the model does not declare is refused (the SDK's models accept extras; the contract does not).
Each finding names the endpoint, the SDK model and the field.

Rules beyond the models, from Anthropic's API documentation ("Errors", "Rate limits"):
- every response carries a unique `request-id` (`req_...`), and an error body repeats it as `request_id`;
- every response carries `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,
  remaining,reset}`, limits and remainders as integers, resets in RFC 3339;
- a 429 or 529 carries `retry-after` in seconds;
- an error's `error.type` is the one the documentation gives its status;
- a stream is server-sent events whose `event:` name is their data's `type`; `ping` events, which the
  SDK skips, are `{"type": "ping"}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
from anthropic.pagination import SyncPage
from anthropic.types import (
    Message,
    MessageTokensCount,
    ModelInfo,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
)
from anthropic.types.shared import ErrorResponse

from atomesh.devstack.anthropic.traffic import Exchange

REQUEST_ID = re.compile(r"req_[A-Za-z0-9]{16,}")
RATE_LIMITS = tuple(
    f"anthropic-ratelimit-{kind}-{part}"
    for kind in ("requests", "tokens", "input-tokens", "output-tokens")
    for part in ("limit", "remaining", "reset")
)
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
STREAM_EVENTS: dict[str, type[pydantic.BaseModel]] = {
    "message_start": RawMessageStartEvent,
    "message_delta": RawMessageDeltaEvent,
    "message_stop": RawMessageStopEvent,
    "content_block_start": RawContentBlockStartEvent,
    "content_block_delta": RawContentBlockDeltaEvent,
    "content_block_stop": RawContentBlockStopEvent,
}
MAX_FINDINGS = 12


@dataclass(frozen=True)
class Finding:
    subject: str  # "POST /v1/messages 200 Message"
    field: str  # "usage.cache_creation", "" for the whole body, "header request-id" for a header
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: at {self.field or '/'}: {self.rule}: {self.message}"


def _field(location: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in location)


def _extras(value: Any, location: tuple[str | int, ...] = ()) -> Iterable[tuple[str, str]]:
    """Fields a validated model holds that its class does not declare, anywhere inside it."""
    if isinstance(value, pydantic.BaseModel):
        for name in value.model_extra or {}:
            yield _field((*location, name)), type(value).__name__
        for name in type(value).model_fields:
            yield from _extras(getattr(value, name), (*location, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _extras(item, (*location, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _extras(item, (*location, str(key)))


def validate(subject: str, model: Any, text: str, prefix: str = "") -> tuple[Any, list[Finding]]:
    """`text` as an instance of the SDK model `model`, strictly, and what does not fit it."""
    name = getattr(model, "__name__", str(model))
    subject = f"{subject} {name}"
    findings: list[Finding] = []
    try:
        instance = model.model_validate_json(text, strict=True)
    except pydantic.ValidationError as exc:
        findings = [Finding(subject, prefix + _field(e["loc"]), e["type"], e["msg"]) for e in exc.errors()]
        instance = None
    if instance is None:
        # The SDK's own construction (what it does with a response it does not validate) still
        # builds the nested models, so undeclared fields are told about next to the wrong ones.
        try:
            data = json.loads(text)
        except ValueError:
            return None, findings
        if not isinstance(data, dict):
            return None, findings
        extras = _extras(model.construct(**data))
    else:
        extras = _extras(instance)
    return instance, findings + [
        Finding(subject, prefix + at, "extra", f"{owner} declares no such field") for at, owner in extras
    ]


def _headers(subject: str, exchange: Exchange) -> list[Finding]:
    headers = {name.lower(): value for name, value in exchange.headers.items()}
    findings: list[Finding] = []
    rid = headers.get("request-id")
    if rid is None or not REQUEST_ID.fullmatch(rid):
        findings.append(Finding(subject, "header request-id", "format", f"{rid!r} is not req_<id>"))
    for name in RATE_LIMITS:
        value = headers.get(name)
        if value is None:
            findings.append(Finding(subject, f"header {name}", "present", "the API sends it on every response"))
        elif name.endswith("-reset"):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                findings.append(Finding(subject, f"header {name}", "format", f"{value!r} is not RFC 3339"))
        elif not value.isdigit():
            findings.append(Finding(subject, f"header {name}", "format", f"{value!r} is not a count"))
    if exchange.status in (429, 529):
        retry = headers.get("retry-after")
        try:
            ok = retry is not None and float(retry) >= 0
        except ValueError:
            ok = False
        if not ok:
            findings.append(Finding(subject, "header retry-after", "present", f"{retry!r}: seconds, on 429 and 529"))
    return findings


def _error(subject: str, exchange: Exchange) -> list[Finding]:
    error, findings = validate(subject, ErrorResponse, exchange.body)
    if error is None:
        return findings
    expected = ERROR_TYPES.get(exchange.status, "api_error" if exchange.status >= 500 else "invalid_request_error")
    if error.error.type != expected:
        findings.append(Finding(subject, "error.type", "status", f"{error.error.type!r} for {exchange.status}"))
    rid = {k.lower(): v for k, v in exchange.headers.items()}.get("request-id")
    if error.request_id != rid:
        findings.append(Finding(subject, "request_id", "header", f"{error.request_id!r} is not request-id {rid!r}"))
    return findings


def _stream(subject: str, exchange: Exchange) -> list[Finding]:
    findings: list[Finding] = []
    for index, event in enumerate(exchange.events):
        where = f"event {index} ({event.name})."
        try:
            data: Any = json.loads(event.data)
        except ValueError as exc:
            findings.append(Finding(subject, where, "json", str(exc)))
            continue
        kind = data.get("type") if isinstance(data, dict) else None
        if kind != event.name:
            findings.append(Finding(subject, where + "type", "event", f"data type {kind!r} under event {event.name!r}"))
        if event.name == "ping":
            if data != {"type": "ping"}:
                findings.append(Finding(subject, where, "ping", f"{data!r}"))
            continue
        model = STREAM_EVENTS.get(event.name)
        if model is None:
            findings.append(Finding(subject, where, "event", "no stream event of the SDK has this name"))
            continue
        findings += validate(subject, model, event.data, where)[1]
    names = [event.name for event in exchange.events]
    if not names or names[0] != "message_start" or names[-1] != "message_stop":
        findings.append(Finding(subject, "events", "order", f"a stream runs message_start .. message_stop: {names}"))
    return findings


def _body(subject: str, exchange: Exchange) -> list[Finding]:
    if exchange.status >= 400:
        return _error(subject, exchange)
    method, path = exchange.method, exchange.path
    if (method, path) == ("POST", "/v1/messages"):
        return _stream(subject, exchange) if exchange.events else validate(subject, Message, exchange.body)[1]
    if (method, path) == ("POST", "/v1/messages/count_tokens"):
        return validate(subject, MessageTokensCount, exchange.body)[1]
    if (method, path) == ("GET", "/v1/models"):
        return validate(subject, SyncPage[ModelInfo], exchange.body)[1]
    if method == "GET" and path.startswith("/v1/models/"):
        return validate(subject, ModelInfo, exchange.body)[1]
    return [Finding(subject, "", "endpoint", "no endpoint the contract knows answers this with success")]


def check(exchange: Exchange, seen_ids: set[str] | None = None) -> list[Finding]:
    """What in `exchange` the SDK's models and the API's documentation do not allow. `seen_ids`, the
    request ids of earlier responses, catches an id sent twice."""
    subject = f"{exchange.method} {exchange.path} {exchange.status}"
    findings = _headers(subject, exchange) + _body(subject, exchange)
    rid = {k.lower(): v for k, v in exchange.headers.items()}.get("request-id")
    if seen_ids is not None and rid is not None:
        if rid in seen_ids:
            findings.append(Finding(subject, "header request-id", "unique", f"{rid} was sent before"))
        seen_ids.add(rid)
    return findings
