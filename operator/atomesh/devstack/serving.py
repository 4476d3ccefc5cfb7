"""Serving an emulator's aiohttp application on loopback, in the foreground or in a thread.

Every emulator (Kubernetes API, GitHub, Anthropic) builds an `aiohttp.web.Application`;
tests run it with `BackgroundServer` (its own thread and event loop, a free port), and
`atomesh dev` runs several with `start_site` on one loop.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

LOOPBACK = "127.0.0.1"
T = TypeVar("T")

AppFactory = Callable[[], Awaitable[web.Application]]


async def start_site(
    app: web.Application, host: str = LOOPBACK, port: int = 0, tls: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    """Start serving `app` (over https with `tls`); returns the runner (to clean up) and the bound port
    (useful with port 0)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True, ssl_context=tls)
    await site.start()
    server = site._server  # aiohttp exposes the bound socket only here
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound


class BackgroundServer:
    """An aiohttp application served in a daemon thread; a context manager.

    `factory` is awaited inside the server's loop, so the application may create
    loop-bound state (queues, tasks) in it.
    """

    def __init__(
        self,
        factory: AppFactory,
        host: str = LOOPBACK,
        port: int = 0,
        name: str = "emulator",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._factory = factory
        self._tls = tls
        self.host = host
        self.port = port
        self._name = name
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self._tls is not None else 'http'}://{self.host}:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self) -> str:
        started = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            self.app = await self._factory()
            self._runner, self.port = await start_site(self.app, self.host, self.port, self._tls)

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the starting thread
                failure.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=main, name=self._name, daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self.url

    def call(self, coro_factory: Callable[[], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run a coroutine in the server's loop from another thread and wait for its result."""

        async def wrapper() -> T:
            return await coro_factory()

        return asyncio.run_coroutine_threadsafe(wrapper(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._runner is not None:
            runner = self._runner
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["BackgroundServer", "start_site"]
