"""What the GitHub emulator sends, for whoever wants to check it: every REST response and every
webhook delivery, as it leaves the emulator.

    stop = traffic.subscribe(seen.append)   # seen: list[Exchange]
    ...
    stop()

Observers are process-wide, so a contract check sees the traffic of every emulator a test starts,
including those `atomesh dev` and the end-to-end stacks build themselves. They are called on the
emulator's event loop and must be quick and must not raise.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

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
_observers: list[Observer] = []
_lock = threading.Lock()


def subscribe(observer: Observer) -> Callable[[], None]:
    """Call `observer` with every exchange from now on; returns the function that unsubscribes."""
    with _lock:
        _observers.append(observer)

    def unsubscribe() -> None:
        with _lock:
            if observer in _observers:
                _observers.remove(observer)

    return unsubscribe


def publish(exchange: Exchange) -> None:
    with _lock:
        observers = list(_observers)
    for observer in observers:
        observer(exchange)


def observing() -> bool:
    with _lock:
        return bool(_observers)


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
