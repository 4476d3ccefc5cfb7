"""What the GitHub emulator sends, for whoever wants to check it: every REST response and every
webhook delivery, as it leaves the emulator.

    stop = traffic.subscribe(seen.append)   # seen: list[Exchange]
    ...
    stop()

Observers are process-wide, so a contract check sees the traffic of every emulator a test starts,
including those the end-to-end stacks build themselves. They are called on the emulator's event
loop and must be quick and must not raise. An emulator in another process (`atomesh dev` started
by a test) appends its traffic as JSON lines to the file named by GITHUB_EMULATOR_TRAFFIC_LOG when
nothing in its own process observes it (`log_from_environment`, `read_log`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

from atomesh.devstack.trafficlog import Observers

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Set on a request by fault injection: a deliberately broken answer is not the emulator's contract.
INJECTED = web.RequestKey("atomesh_github_fault_injected", bool)


@dataclass(frozen=True)
class Exchange:
    """One response or delivery. `path` is the API path without the emulator's prefix
    (`/repos/demo/app/pulls/1`) or, for a delivery, the hook's URL; `route` the emulator's
    route template that answered ("" for a delivery or an unrouted path)."""

    kind: Literal["response", "delivery"]
    method: str
    path: str
    route: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    injected: bool = False


Observer = Callable[[Exchange], None]
# Not ATOMESH_-prefixed: tests that start `atomesh dev` as a user would drop those from its environment.
LOG_ENV = "GITHUB_EMULATOR_TRAFFIC_LOG"


def to_json(exchange: Exchange) -> str:
    fields = {**exchange.__dict__, "headers": dict(exchange.headers)}
    return json.dumps({**fields, "body": base64.b64encode(exchange.body).decode()})


def from_json(line: str) -> Exchange:
    data = json.loads(line)
    return Exchange(**{**data, "body": base64.b64decode(data["body"])})


_traffic: Observers[Exchange] = Observers(LOG_ENV, to_json, from_json)
subscribe = _traffic.subscribe
observing = _traffic.observing
publish = _traffic.publish
log_from_environment = _traffic.log_from_environment
read_log = _traffic.read_log


def middleware(prefix: str) -> Middleware:
    """Publish every response to a path under `prefix` (the REST API), as the client receives it."""

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            response = exc
        if observing() and request.path.startswith(prefix):
            info = request.match_info.route.resource
            body = response.body if isinstance(response, web.Response) else None
            publish(
                Exchange(
                    kind="response",
                    method=request.method,
                    path=request.path.removeprefix(prefix),
                    route=info.canonical.removeprefix(prefix) if info is not None else "",
                    status=response.status,
                    headers=dict(response.headers),
                    body=body if isinstance(body, bytes) else b"",
                    injected=request.get(INJECTED, False),
                )
            )
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return record
