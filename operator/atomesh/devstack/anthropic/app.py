"""The Anthropic Messages API, as far as harnesses use it: /v1/messages (JSON and SSE),
/v1/messages/count_tokens and /v1/models, answered from a cassette.

Usage is deterministic: unless a turn sets it, input tokens are the request's characters / 4
and output tokens the reply's characters / 4 (at least 1), so costs are reproducible.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from atomesh.devstack.anthropic.cassette import Cassette, Reply, RequestFacts, Script, Turn, agent_name, unmatched
from atomesh.devstack.anthropic.tools import detect_harness, translate, working_directory

# Real model names that agents name, and names of the emulator's own that tests use: no SDK
# deprecation schedule applies to them.
MODELS = (
    "claude-sonnet-4-5",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-opus-4-5",
    "claude-opus-4-1",
    "emulator-large",
    "emulator-medium",
    "emulator-small",
)
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
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


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}}


def _error(status: int, message: str, retry_after: int | None = None) -> web.Response:
    headers = {"request-id": "req_emulated"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    return web.json_response(error_body(status, message), status=status, headers=headers)


def _validate(body: Any) -> str | None:
    """Anthropic's 400s for malformed requests, the ones a client bug would trigger."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
    return None


def _content_blocks(reply: Reply, harness: str, cwd: str | None, ids: Iterator[int]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for call in reply.tools:
        name, tool_input = translate(call.tool, call.input, harness, cwd)
        blocks.append({"type": "tool_use", "id": f"toolu_emu{next(ids):06d}", "name": name, "input": tool_input})
    return blocks


def _usage(reply: Reply, body: dict[str, Any], blocks: list[dict[str, Any]]) -> dict[str, int]:
    request_chars = len(json.dumps(body.get("messages", []))) + len(json.dumps(body.get("system", "")))
    reply_chars = len(json.dumps(blocks))
    given = reply.usage
    return {
        "input_tokens": given.input_tokens if given.input_tokens is not None else max(1, request_chars // 4),
        "output_tokens": given.output_tokens if given.output_tokens is not None else max(1, reply_chars // 4),
        "cache_creation_input_tokens": reply.usage.cache_creation_input_tokens,
        "cache_read_input_tokens": reply.usage.cache_read_input_tokens,
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


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(message: dict[str, Any]) -> Iterator[bytes]:
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
    delta_usage = {"output_tokens": usage["output_tokens"]}
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
    problem = _validate(body)
    if problem is not None or not isinstance(body, dict):
        state.requests.append(_record(request, body if isinstance(body, dict) else {}, "unknown", None, 400))
        return _error(400, problem or "invalid request")
    tools = body.get("tools") or []
    harness = detect_harness(t.get("name", "") for t in tools if isinstance(t, dict))
    if not _authenticated(request):
        state.requests.append(_record(request, body, harness, None, 401))
        return _error(401, "x-api-key header is required")
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
        return _error(turn.error, message, turn.retry_after if turn.error in (429, 529) else None)
    default = state.script.cassette.default
    if turn is None and default is None and facts.has_tools:
        state.requests.append(_record(request, body, harness, None, 400))
        return _error(400, unmatched(facts))
    reply: Reply = turn if turn is not None else default or Reply(text=unmatched(facts))
    try:
        message_json = _message(body, reply, harness, state)
    except ValueError as exc:  # a cassette turn that does not fit the harness
        state.requests.append(_record(request, body, harness, chosen[0] if chosen else None, 500))
        return _error(500, f"cassette: {exc}")
    state.requests.append(_record(request, body, harness, chosen[0] if chosen else None, 200))
    if not body.get("stream"):
        return web.json_response(message_json, headers={"request-id": "req_emulated"})
    response = web.StreamResponse(
        headers={"content-type": "text/event-stream", "cache-control": "no-cache", "request-id": "req_emulated"}
    )
    await response.prepare(request)
    for chunk in stream_events(message_json):
        await response.write(chunk)
        await asyncio.sleep(0)
    await response.write_eof()
    return response


async def count_tokens(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return _error(400, "request body must be a JSON object")
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(400, "messages: Field required")
    chars = len(json.dumps(body.get("messages"))) + len(json.dumps(body.get("system", "")))
    chars += len(json.dumps(body.get("tools", [])))
    return web.json_response({"input_tokens": max(1, chars // 4)})


def _model_info(model_id: str) -> dict[str, Any]:
    return {"type": "model", "id": model_id, "display_name": model_id, "created_at": "2025-01-01T00:00:00Z"}


async def list_models(request: web.Request) -> web.Response:
    data = [_model_info(m) for m in MODELS]
    return web.json_response({"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]})


async def get_model(request: web.Request) -> web.Response:
    return web.json_response(_model_info(request.match_info["model"]))


async def not_found(request: web.Request) -> web.Response:
    return _error(404, f"{request.method} {request.path} is not emulated")


def build_app(cassette: Cassette) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = EmulatorState(script=Script(cassette))
    app.router.add_post("/v1/messages", messages)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", get_model)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
