"""The Anthropic Messages API, as far as harnesses use it: /v1/messages (JSON and SSE),
/v1/messages/count_tokens and /v1/models, answered from a cassette.

Every response carries a unique `request-id` and the rate-limit headers (`headers.py`); requests
the API refuses are refused with its error body (`validation.py`); every response is published to
the traffic observers (`traffic.py`) as it leaves.

Usage is deterministic: unless a turn sets it, input tokens are the request's characters / 4
and output tokens the reply's characters / 4 (at least 1), so costs are reproducible.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from atomesh.devstack.anthropic import catalogue, traffic
from atomesh.devstack.anthropic.cassette import Cassette, Reply, RequestFacts, Script, Turn, agent_name, unmatched
from atomesh.devstack.anthropic.headers import RateWindow, request_id
from atomesh.devstack.anthropic.tools import detect_harness, translate, working_directory
from atomesh.devstack.anthropic.validation import check_count_request, check_message_request

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
# Headers never recorded: they carry credentials.
_SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the emulator saw it, without credentials."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]
    harness: str
    turn: int | None  # index of the cassette turn that answered, None for the default reply
    status: int
    stream: bool = False

    @property
    def last_user_text(self) -> str:
        return last_user_text(self.body.get("messages") or [])


@dataclass
class EmulatorState:
    script: Script
    requests: list[RecordedRequest] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    limits: RateWindow = field(default_factory=RateWindow)


STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("anthropic_state", EmulatorState)


def _text_of(content: Any) -> str:
    """All text in a message content (strings, text blocks, tool results), joined."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif block.get("type") == "tool_result":
                parts.append(_text_of(block.get("content", "")))
    return "\n".join(parts)


def last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _has_tool_result(messages: list[Any]) -> bool:
    last = messages[-1] if messages else {}
    content = last.get("content") if isinstance(last, dict) and last.get("role") == "user" else None
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def error_body(status: int, message: str, request: str | None = None) -> dict[str, Any]:
    error = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
    body: dict[str, Any] = {"type": "error", "error": error}
    if request is not None:
        body["request_id"] = request
    return body


def _headers(request: web.Request, input_tokens: int = 0, output_tokens: int = 0) -> dict[str, str]:
    limits = request.app[STATE_KEY].limits.spend(input_tokens, output_tokens)
    return {"request-id": request_id(), **limits}


def _publish(request: web.Request, response: web.StreamResponse, body: str, *, scripted: bool = False) -> None:
    if traffic.observing():
        exchange = traffic.Exchange(request.method, request.path, response.status, dict(response.headers), body)
        traffic.publish(dataclasses.replace(exchange, scripted=scripted))


def _json(request: web.Request, data: dict[str, Any], headers: dict[str, str], status: int = 200) -> web.Response:
    text = json.dumps(data)
    response = web.Response(text=text, status=status, headers=headers, content_type="application/json")
    _publish(request, response, text)
    return response


def _error(
    request: web.Request, status: int, message: str, retry_after: int | None = None, *, scripted: bool = False
) -> web.Response:
    headers = _headers(request)
    if status in (429, 529):
        # The API says when to come back on a rate limit and when overloaded; clients honour it.
        headers["retry-after"] = str(retry_after if retry_after is not None else 1)
    text = json.dumps(error_body(status, message, headers["request-id"]))
    response = web.Response(text=text, status=status, headers=headers, content_type="application/json")
    _publish(request, response, text, scripted=scripted)
    return response


def _content_blocks(reply: Reply, harness: str, cwd: str | None, ids: Iterator[int]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.tools:
        name, tool_input = translate(call.tool, call.input, harness, cwd)
        blocks.append({"type": "tool_use", "id": f"toolu_emu{next(ids):06d}", "name": name, "input": tool_input})
    return blocks


def _usage(reply: Reply, body: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Usage as the API reports it: cache writes also broken down by TTL (all counted as the
    default 5-minute cache), and the tier that served the request."""
    request_chars = len(json.dumps(body.get("messages", []))) + len(json.dumps(body.get("system", "")))
    reply_chars = len(json.dumps(blocks))
    given = reply.usage
    return {
        "input_tokens": given.input_tokens if given.input_tokens is not None else max(1, request_chars // 4),
        "cache_creation_input_tokens": given.cache_creation_input_tokens,
        "cache_read_input_tokens": given.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": given.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": given.output_tokens if given.output_tokens is not None else max(1, reply_chars // 4),
        "service_tier": "standard",
    }


def _message(body: dict[str, Any], reply: Reply, harness: str, state: EmulatorState) -> dict[str, Any]:
    system_text = _text_of(body.get("system", ""))
    cwd = working_directory(system_text, _text_of((body.get("messages") or [{}])[0].get("content", "")))
    blocks = _content_blocks(reply, harness, cwd, state.ids)
    stop_reason = reply.stop_reason or ("tool_use" if reply.tools else "end_turn")
    return {
        "id": f"msg_emu{next(state.ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": _usage(reply, body, blocks),
    }


def _sse(event: str, data: dict[str, Any]) -> traffic.Event:
    return traffic.Event(event, json.dumps(data))


def _encoded(event: traffic.Event) -> bytes:
    return f"event: {event.name}\ndata: {event.data}\n\n".encode()


def stream_events(message: dict[str, Any]) -> Iterator[traffic.Event]:
    """A message as Anthropic streams it; tool input arrives as input_json_delta chunks."""
    usage = message["usage"]
    start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
    yield _sse("message_start", {"type": "message_start", "message": start})
    yield _sse("ping", {"type": "ping"})
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield _sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
            )
            text = block["text"]
            for offset in range(0, len(text), 40):
                delta = {"type": "text_delta", "text": text[offset : offset + 40]}
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        else:
            head = dict(block, input={})
            yield _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": head})
            raw = json.dumps(block["input"])
            for offset in range(0, len(raw), 64):
                delta = {"type": "input_json_delta", "partial_json": raw[offset : offset + 64]}
                yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    # The final counts, cumulative, as the API sends them with the stop reason.
    delta_usage = {
        name: usage[name]
        for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    }
    yield _sse(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": delta_usage,
        },
    )
    yield _sse("message_stop", {"type": "message_stop"})


def _record(request: web.Request, body: dict[str, Any], harness: str, turn: int | None, status: int) -> RecordedRequest:
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in _SECRET_HEADERS}
    return RecordedRequest(
        method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=headers,
        body=body,
        harness=harness,
        turn=turn,
        status=status,
        stream=bool(body.get("stream")),
    )


def _authenticated(request: web.Request) -> bool:
    return bool(request.headers.get("x-api-key") or request.headers.get("authorization"))


async def messages(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    try:
        body = await request.json()
    except json.JSONDecodeError:
        body = None
    recorded = body if isinstance(body, dict) else {}
    tools = recorded.get("tools") or []
    harness = detect_harness(t.get("name", "") for t in tools if isinstance(t, dict)) if recorded else "unknown"
    # The API authenticates before it reads the request.
    if not _authenticated(request):
        state.requests.append(_record(request, recorded, harness, None, 401))
        return _error(request, 401, "x-api-key header is required")
    refusal = check_message_request(body)
    if refusal is not None or not isinstance(body, dict):
        status, message = (refusal.status, refusal.message) if refusal else (400, "invalid request")
        state.requests.append(_record(request, recorded, harness, None, status))
        return _error(request, status, message)
    system_text = _text_of(body.get("system", ""))
    first_text = _text_of(body["messages"][0].get("content", ""))
    facts = RequestFacts(
        last_user_text=last_user_text(body["messages"]),
        first_user_text=first_text,
        system_text=system_text,
        harness=harness,
        has_tools=bool(tools),
        has_tool_result=_has_tool_result(body["messages"]),
        agent=agent_name(system_text, first_text),
    )
    chosen = state.script.next_turn(facts)
    turn: Turn | None = None
    if chosen is not None:
        turn = chosen[1]
    if turn is not None and turn.error is not None:
        state.requests.append(_record(request, body, harness, chosen[0] if chosen else None, turn.error))
        message = turn.message or f"emulated {turn.error}"
        return _error(request, turn.error, message, turn.retry_after, scripted=True)
    default = state.script.cassette.default
    if turn is None and default is None and facts.has_tools:
        state.requests.append(_record(request, body, harness, None, 400))
        return _error(request, 400, unmatched(facts))
    reply: Reply = turn if turn is not None else default or Reply(text=unmatched(facts))
    try:
        message_json = _message(body, reply, harness, state)
    except ValueError as exc:  # a cassette turn that does not fit the harness
        state.requests.append(_record(request, body, harness, chosen[0] if chosen else None, 500))
        return _error(request, 500, f"cassette: {exc}")
    state.requests.append(_record(request, body, harness, chosen[0] if chosen else None, 200))
    usage = message_json["usage"]
    headers = _headers(request, usage["input_tokens"], usage["output_tokens"])
    if not body.get("stream"):
        return _json(request, message_json, headers)
    response = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache", **headers})
    await response.prepare(request)
    events = tuple(stream_events(message_json))
    for event in events:
        await response.write(_encoded(event))
        await asyncio.sleep(0)
    # Published before the end of the stream, so the client cannot finish before it is observed.
    if traffic.observing():
        exchange = traffic.Exchange(request.method, request.path, response.status, dict(response.headers), "", events)
        traffic.publish(exchange)
    await response.write_eof()
    return response


async def count_tokens(request: web.Request) -> web.Response:
    if not _authenticated(request):
        return _error(request, 401, "x-api-key header is required")
    try:
        body = await request.json()
    except json.JSONDecodeError:
        body = None
    refusal = check_count_request(body)
    if refusal is not None or not isinstance(body, dict):
        status, message = (refusal.status, refusal.message) if refusal else (400, "invalid request")
        return _error(request, status, message)
    chars = len(json.dumps(body.get("messages"))) + len(json.dumps(body.get("system", "")))
    chars += len(json.dumps(body.get("tools", [])))
    return _json(request, {"input_tokens": max(1, chars // 4)}, _headers(request))


async def list_models(request: web.Request) -> web.Response:
    if not _authenticated(request):
        return _error(request, 401, "x-api-key header is required")
    data = [model.info() for model in catalogue.CATALOGUE]
    page = {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
    return _json(request, page, _headers(request))


async def get_model(request: web.Request) -> web.Response:
    if not _authenticated(request):
        return _error(request, 401, "x-api-key header is required")
    model = catalogue.find(request.match_info["model"])
    if model is None:
        return _error(request, 404, f"model: {request.match_info['model']}")
    return _json(request, model.info(), _headers(request))


async def not_found(request: web.Request) -> web.Response:
    # Loud on purpose: a client calling an endpoint the emulator lacks must not pass silently.
    return _error(request, 404, f"{request.method} {request.path} is not emulated")


def build_app(cassette: Cassette) -> web.Application:
    traffic.log_from_environment()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = EmulatorState(script=Script(cassette))
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", get_model)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
