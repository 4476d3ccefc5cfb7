"""The proxy's HTTP side: check the per-run token, enforce the grant, forward faithfully, meter usage.

Forwarded: the method, path and query, the body as bytes, every header except the caller's credentials,
hop-by-hop headers and `Accept-Encoding` (the upstream answers uncompressed so usage can be read).
Answers come back as the upstream sent them; event streams are relayed chunk by chunk as they arrive.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp import web

from atomesh.core.modelgrant import (
    AUTHENTICATION_ERROR,
    INVALID_REQUEST_ERROR,
    NOT_FOUND_ERROR,
    Refusal,
    StreamUsage,
    UsageMeter,
    usage_of_message,
)

log = logging.getLogger(__name__)

MESSAGES_PATH = "/v1/messages"
FORWARDED_PATHS = frozenset({MESSAGES_PATH, "/v1/messages/count_tokens"})
# Long agent conversations are large; the Messages API itself accepts up to 32 MB.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
API_ERROR = "api_error"
_DROPPED_REQUEST_HEADERS = frozenset(
    {
        "host",
        "x-api-key",
        "authorization",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "upgrade",
        "accept-encoding",
    }
)
_DROPPED_RESPONSE_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding", "server", "date"}
)


def _error(refusal: Refusal) -> web.Response:
    return web.json_response(refusal.body(), status=refusal.status, headers=refusal.headers())


def _caller_token(request: web.Request) -> str:
    key = request.headers.get("x-api-key")
    if key:
        return key
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


class ModelProxy:
    """Forwards the Messages API of one run to `upstream` with `api_key`, for callers holding `token`."""

    def __init__(
        self,
        upstream: str,
        api_key: str,
        token: str,
        meter: UsageMeter,
        clock: Callable[[], float] = time.time,
        extra_headers: Mapping[str, str] | None = None,
        on_pause: Callable[[Refusal], None] | None = None,
    ) -> None:
        self._upstream = upstream.rstrip("/")
        self._api_key = api_key
        self._token = token
        self.meter = meter
        self._clock = clock
        self._extra_headers = dict(extra_headers or {})  # a gateway's attribution (core.gateway)
        self._session: aiohttp.ClientSession | None = None
        self._on_pause = on_pause  # told once, at the first refusal for a reached limit
        self.paused: Refusal | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, _app: web.Application) -> None:
        # No total timeout: a long answer streams for minutes; the run's deadline ends the pod.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=600)
        self._session = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)

    async def _close(self, _app: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(_caller_token(request).encode(), self._token.encode()):
            return _error(Refusal(401, AUTHENTICATION_ERROR, "invalid x-api-key: use the run's model token"))
        if request.method != "POST" or request.path not in FORWARDED_PATHS:
            message = f"{request.method} {request.path} is not forwarded: the model proxy serves POST /v1/messages"
            return _error(Refusal(404, NOT_FOUND_ERROR, message))
        body = await request.read()
        try:
            payload = json.loads(body)
        except ValueError:
            return _error(Refusal(400, INVALID_REQUEST_ERROR, "the request body is not JSON"))
        model = payload.get("model") if isinstance(payload, dict) else None
        refusal = self.meter.refusal(model, self._clock())
        if refusal is not None:
            log.info("refused %s %s: %s", request.method, request.path, refusal.message)
            if refusal.pause and self.paused is None:
                self.paused = refusal
                if self._on_pause is not None:
                    self._on_pause(refusal)
            return _error(refusal)
        self.meter.requests += 1
        return await self._forward(request, body)

    async def _forward(self, request: web.Request, body: bytes) -> web.StreamResponse:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED_REQUEST_HEADERS}
        headers.update(self._extra_headers)
        headers["x-api-key"] = self._api_key
        headers["accept-encoding"] = "identity"
        metered = request.path == MESSAGES_PATH
        response: web.StreamResponse | None = None
        try:
            async with self._session.request(
                request.method, self._upstream + request.path_qs, data=body, headers=headers
            ) as upstream:
                answer_headers = {
                    k: v for k, v in upstream.headers.items() if k.lower() not in _DROPPED_RESPONSE_HEADERS
                }
                if upstream.content_type != "text/event-stream":
                    data = await upstream.read()
                    if metered and upstream.status == 200:
                        self.meter.add(*usage_of_message(data))
                    return web.Response(status=upstream.status, body=data, headers=answer_headers)
                response = web.StreamResponse(status=upstream.status, headers=answer_headers)
                await response.prepare(request)
                usage = StreamUsage()
                try:
                    async for chunk in upstream.content.iter_any():
                        usage.feed(chunk)
                        await response.write(chunk)
                    await response.write_eof()
                except ConnectionResetError:
                    log.info("the caller left during the stream of %s", request.path)
                finally:
                    # Counted even when the caller leaves early: leaving cannot dodge the run's limits.
                    usage.close()
                    if metered:
                        self.meter.add(usage.input_tokens, usage.output_tokens)
                return response
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("upstream %s: %s", request.path, type(exc).__name__)
            if response is not None and response.prepared:
                return response  # the stream already began: the caller sees it end early
            return _error(Refusal(502, API_ERROR, f"the model proxy cannot reach the model API ({type(exc).__name__})"))
