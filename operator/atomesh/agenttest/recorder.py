"""Recording a cassette: a loopback proxy between the harness and a real Messages API.

Every request goes upstream unchanged (the harness's own key included) and its answer comes back
unchanged; each answer of the agent conversation (a request that carries tools) becomes a turn,
in order, with its text, its tool calls and the usage the API reported. Streams are passed on
once complete. Tool calls are written the generic way (`write_file`, `edit_file`, `read_file`,
`run`) with paths relative to the workspace, so the cassette replays in another workspace and
under another harness. Nothing of the request is kept: no header, no key, no prompt.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from atomesh.devstack.anthropic.cassette import Cassette, ToolCall, Turn, Usage
from atomesh.devstack.serving import BackgroundServer

# Hop-by-hop and transport headers are the proxy's own; the rest (the key among them) go upstream.
_DROPPED_REQUEST_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})
_PASSED_RESPONSE_HEADERS = ("content-type", "request-id", "retry-after", "anthropic-ratelimit-requests-remaining")


def message_from_stream(data: str) -> dict[str, Any]:
    """The message an SSE stream of the Messages API spells out, event by event."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for chunk in data.split("\n\n"):
        payload = "".join(line[5:].strip() for line in chunk.splitlines() if line.startswith("data:"))
        if not payload:
            continue
        event = json.loads(payload)
        kind = event.get("type")
        if kind == "message_start":
            message = dict(event["message"])
        elif kind == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif kind == "content_block_delta":
            delta, block = event["delta"], blocks[event["index"]]
            if delta.get("type") == "text_delta":
                block["text"] = block.get("text", "") + delta["text"]
            elif delta.get("type") == "input_json_delta":
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
        elif kind == "message_delta":
            message.update(event.get("delta") or {})
            message["usage"] = {**(message.get("usage") or {}), **(event.get("usage") or {})}
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text) if text else {}
    message["content"] = [blocks[index] for index in sorted(blocks)]
    return message


def _relative(path: Any, workspace: str) -> str | None:
    if not isinstance(path, str):
        return None
    root = workspace.rstrip("/") + "/"
    if path.startswith(root):
        return path[len(root) :]
    return None if path.startswith("/") else path


def generic_call(name: str, args: dict[str, Any], workspace: str) -> ToolCall:
    """A harness's tool call in the generic spelling the emulator translates back for any harness."""
    path_key = {"Write": "file_path", "Edit": "file_path", "Read": "file_path"}.get(name)
    path_key = path_key or {"write": "filePath", "edit": "filePath", "read": "filePath"}.get(name)
    if path_key is not None:
        rel = _relative(args.get(path_key), workspace)
        rest = {key: value for key, value in args.items() if key != path_key}
        lowered = name.lower()
        if rel is not None and lowered == "write" and set(rest) == {"content"}:
            return ToolCall(tool="write_file", input={"path": rel, "content": rest["content"]})
        if rel is not None and lowered == "read" and not rest:
            return ToolCall(tool="read_file", input={"path": rel})
        if rel is not None and lowered == "edit":
            old, new = rest.get("old_string", rest.get("oldString")), rest.get("new_string", rest.get("newString"))
            if len(rest) == 2 and isinstance(old, str) and isinstance(new, str):
                return ToolCall(tool="edit_file", input={"path": rel, "old": old, "new": new})
    if name in ("Bash", "bash") and isinstance(args.get("command"), str):
        return ToolCall(
            tool="run", input={key: value for key, value in args.items() if key in ("command", "description")}
        )
    if name == "run_command" and isinstance(args.get("command"), str):
        return ToolCall(tool="run", input={"command": args["command"]})
    return ToolCall(tool=name, input=args)


def turn_from_message(message: dict[str, Any], workspace: str) -> Turn:
    content = message.get("content") or []
    texts = [str(block.get("text", "")) for block in content if block.get("type") == "text"]
    calls = [
        generic_call(str(block["name"]), dict(block.get("input") or {}), workspace)
        for block in content
        if block.get("type") == "tool_use"
    ]
    usage = message.get("usage") or {}
    stop = message.get("stop_reason")
    default_stop = "tool_use" if calls else "end_turn"
    return Turn(
        text="\n\n".join(texts) if texts or not calls else None,
        tools=calls,
        stop_reason=stop if stop and stop != default_stop else None,
        usage=Usage(
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            cache_creation_input_tokens=int(usage.get("cache_creation_input_tokens") or 0),
            cache_read_input_tokens=int(usage.get("cache_read_input_tokens") or 0),
        ),
    )


class Recorder:
    """A proxy on loopback to `upstream` that records the agent conversation's turns. A context manager."""

    def __init__(self, upstream: str, workspace: Path) -> None:
        self.upstream = upstream.rstrip("/")
        self.workspace = str(workspace)
        self.turns: list[Turn] = []
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._build, name="cassette-recorder")

    @property
    def url(self) -> str:
        return self._server.url

    def cassette(self) -> Cassette:
        with self._lock:
            return Cassette(turns=list(self.turns))

    async def _build(self) -> web.Application:
        session: aiohttp.ClientSession | None = None

        async def forward(request: web.Request) -> web.Response:
            nonlocal session
            session = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
            body = await request.read()
            headers = {
                key: value for key, value in request.headers.items() if key.lower() not in _DROPPED_REQUEST_HEADERS
            }
            url = self.upstream + request.rel_url.path_qs
            async with session.request(request.method, url, data=body, headers=headers) as upstream:
                data = await upstream.read()
                status = upstream.status
                passed = {name: upstream.headers[name] for name in _PASSED_RESPONSE_HEADERS if name in upstream.headers}
            if request.method == "POST" and request.path == "/v1/messages" and status == 200:
                self._keep(body, passed.get("content-type", ""), data)
            return web.Response(status=status, body=data, headers=passed)

        async def close(_: web.Application) -> None:
            if session is not None:
                await session.close()

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", forward)
        app.on_cleanup.append(close)
        return app

    def _keep(self, request_body: bytes, content_type: str, data: bytes) -> None:
        sent = json.loads(request_body or b"{}")
        if not sent.get("tools"):
            return  # a side call (a title, a topic): replay answers those without a turn
        text = data.decode("utf-8")
        message = message_from_stream(text) if content_type.startswith("text/event-stream") else json.loads(text)
        with self._lock:
            self.turns.append(turn_from_message(message, self.workspace))

    def __enter__(self) -> Recorder:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
