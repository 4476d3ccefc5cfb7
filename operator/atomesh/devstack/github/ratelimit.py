"""GitHub's primary rate limit and the headers every REST response carries.

As GitHub documents it: an authenticated user may make 5000 requests an hour, an anonymous client
60 an hour per address; the window starts with the first request and resets an hour later; every
response says where the caller stands (`x-ratelimit-limit`, `-remaining`, `-used`, `-reset`,
`-resource`); a conditional request answered 304 does not count; past the limit the answer is 403
(or 429) with GitHub's message. Every response also carries a unique `X-GitHub-Request-Id`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

from . import context as ctx

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AUTHENTICATED = 5000
ANONYMOUS = 60
WINDOW = 3600
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
ANONYMOUS_MESSAGE = (
    "API rate limit exceeded for {who}. (But here's the good news: Authenticated requests get a higher rate limit. "
    "Check out the documentation for more details.)"
)
USER_MESSAGE = "API rate limit exceeded for user ID {who}."


@dataclass
class Window:
    limit: int
    reset: int
    used: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-resource": "core",
        }


class RateLimits:
    """Hour windows per caller (a user's login, or `ip:<address>` when anonymous); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}

    def window(self, caller: str, limit: int) -> Window:
        """The caller's current window (a new one once the last has reset), as a snapshot."""
        now = int(time.time())
        with self._lock:
            found = self._windows.get(caller)
            if found is None or found.reset <= now:
                found = self._windows[caller] = Window(limit, now + WINDOW)
            return Window(found.limit, found.reset, found.used)

    def count(self, caller: str, limit: int) -> Window:
        self.window(caller, limit)
        with self._lock:
            found = self._windows[caller]
            found.used += 1
            return Window(found.limit, found.reset, found.used)


LIMITS = web.AppKey("atomesh_github_rate_limits", RateLimits)


def caller(request: web.Request) -> tuple[str, int, str]:
    """(window key, hourly limit, who for the message): a known token's user, or the client address."""
    token = ctx.services(request).store.tokens.get(ctx.bearer(request) or "")
    if token is not None:
        user = ctx.services(request).store.users.get(token.login)
        return token.login, AUTHENTICATED, str(user.id if user else token.login)
    address = request.remote or "127.0.0.1"
    return f"ip:{address}", ANONYMOUS, address


def exceeded(window: Window, who: str, anonymous: bool) -> web.Response:
    message = (ANONYMOUS_MESSAGE if anonymous else USER_MESSAGE).format(who=who)
    return web.Response(
        status=403,
        text=json.dumps({"message": message, "documentation_url": DOCS}),
        content_type="application/json",
        headers=window.headers(),
    )


def request_id() -> str:
    """An id shaped like GitHub's (`C0DE:1A2B3C:4D5E6F7:8091A2B:65F0C3D1`), unique per response."""
    return ":".join(secrets.token_hex(n).upper() for n in (2, 3, 4, 4, 4))


def middleware(limits: RateLimits, prefix: str) -> Middleware:
    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        key, allowed, who = caller(request)
        window = limits.window(key, allowed)
        if window.remaining <= 0:
            response: web.StreamResponse = exceeded(window, who, key.startswith("ip:"))
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = exc
            # /rate_limit itself and a conditional request answered 304 do not count.
            if response.status != 304 and request.path != prefix + "/rate_limit":
                window = limits.count(key, allowed)
        for name, value in window.headers().items():
            # An injected rate-limit fault brings its own values.
            response.headers.setdefault(name, value)
        response.headers["X-GitHub-Request-Id"] = request_id()
        if isinstance(response, web.HTTPException):
            raise response
        return response

    return limit
