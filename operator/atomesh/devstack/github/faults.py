"""Fault injection for the REST API: the failures GitHub clients must survive.

Each fault applies to the next N API requests (optionally only those of one method), in the
order queued: server errors (502/503), the primary rate limit (403 or 429 with
`x-ratelimit-remaining: 0` and `x-ratelimit-reset`), and the secondary rate limit (403 with
`retry-after`). Faults never touch git over HTTP or the HTML view.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from .traffic import INJECTED

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PRIMARY_MESSAGE = (
    "API rate limit exceeded for user ID 1. (But here's the good news: authenticated requests get a higher rate limit.)"
)
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
RATE_LIMIT = 5000


@dataclass
class Fault:
    kind: str  # "error", "primary", "secondary"
    remaining: int
    status: int
    method: str | None = None
    reset_in: float = 1.0
    reset_at: int | None = None
    retry_after: int = 1

    def matches(self, request: web.Request) -> bool:
        return self.method is None or request.method == self.method.upper()


class Faults:
    """Thread-safe queue of faults; tests arm it from their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self.injected = 0

    def fail_next(self, count: int = 1, status: int = 502, method: str | None = None) -> None:
        self._add(Fault("error", count, status, method))

    def rate_limit_primary(
        self,
        count: int = 1,
        reset_in: float = 1.0,
        status: int = 403,
        method: str | None = None,
        reset_at: int | None = None,
    ) -> None:
        """`x-ratelimit-reset` is `reset_at` (epoch seconds) when given, else now + `reset_in`."""
        self._add(Fault("primary", count, status, method, reset_in=reset_in, reset_at=reset_at))

    def rate_limit_secondary(
        self, count: int = 1, retry_after: int = 1, status: int = 403, method: str | None = None
    ) -> None:
        self._add(Fault("secondary", count, status, method, retry_after=retry_after))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(fault.remaining for fault in self._queue)

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def take(self, request: web.Request) -> Fault | None:
        with self._lock:
            for fault in self._queue:
                if fault.matches(request):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._queue.remove(fault)
                    self.injected += 1
                    return fault
            return None


def respond(fault: Fault) -> web.Response:
    reset = fault.reset_at if fault.reset_at is not None else int(time.time() + fault.reset_in + 0.999)
    if fault.kind == "primary":
        headers = {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-used": str(RATE_LIMIT),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }
        body = {"message": PRIMARY_MESSAGE, "documentation_url": "https://docs.github.com/rest/rate-limit"}
        return web.Response(
            status=fault.status, text=json.dumps(body), headers=headers, content_type="application/json"
        )
    if fault.kind == "secondary":
        body = {"message": SECONDARY_MESSAGE, "documentation_url": "https://docs.github.com/rest/rate-limit"}
        return web.Response(
            status=fault.status,
            text=json.dumps(body),
            headers={"retry-after": str(fault.retry_after)},
            content_type="application/json",
        )
    return web.Response(
        status=fault.status, text=f"<html><body>{fault.status} emulated</body></html>", content_type="text/html"
    )


def middleware(faults: Faults, prefix: str) -> Middleware:
    @web.middleware
    async def inject(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(prefix):
            fault = faults.take(request)
            if fault is not None:
                request[INJECTED] = True
                return respond(fault)
        return await handler(request)

    return inject
