"""`atomesh dev`'s narration when the API server refuses its watch: the refusal is the user's to fix
(a token, a role), so it is said once as a warning, not retried in silence and not once per retry."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from aiohttp import web

from atomesh.devstack import narrator
from atomesh.devstack.kubelet.apiclient import ApiClient

pytestmark = pytest.mark.integration

FORBIDDEN = {
    "kind": "Status",
    "apiVersion": "v1",
    "status": "Failure",
    "message": 'agentruns.atomesh.dev is forbidden: User "dev" cannot list resource "agentruns" in API group '
    '"atomesh.dev" in the namespace "default"',
    "reason": "Forbidden",
    "code": 403,
}


async def _narrate_against_a_refusing_server(attempts: int) -> int:
    seen = 0
    enough = asyncio.Event()

    async def refuse(_: web.Request) -> web.Response:
        nonlocal seen
        seen += 1
        if seen >= attempts:
            enough.set()
        return web.json_response(FORBIDDEN, status=403)

    app = web.Application()
    app.router.add_get("/{tail:.*}", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api = ApiClient(f"http://127.0.0.1:{port}")
    task = asyncio.create_task(narrator.Narrator(api, "default", lambda line: None).run())
    try:
        await asyncio.wait_for(enough.wait(), timeout=30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await api.close()
        await runner.cleanup()
    return seen


def test_a_refused_watch_is_one_warning_naming_the_refusal(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(narrator, "RECONNECT_SECONDS", 0.01)
    with caplog.at_level(logging.DEBUG, logger=narrator.__name__):
        seen = asyncio.run(_narrate_against_a_refusing_server(attempts=4))
    assert seen >= 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "cannot follow runs" in warnings[0]
    assert 'User "dev" cannot list resource "agentruns"' in warnings[0]
