"""Starting the Anthropic emulator: in a background thread for tests, or on a shared loop for `atomesh dev`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from atomesh.devstack.anthropic.app import STATE_KEY, RecordedRequest, build_app
from atomesh.devstack.anthropic.cassette import Cassette, load_cassette
from atomesh.devstack.serving import BackgroundServer

CassetteSource = Cassette | dict[str, Any] | list[Any] | str | Path


class AnthropicEmulator:
    """A Messages API on loopback that follows a cassette. A context manager.

    `url` is the base URL harnesses take (ANTHROPIC_BASE_URL, opencode's baseURL,
    LiteLLM's api_base); `requests` is what it received, without credentials.
    """

    def __init__(self, cassette: CassetteSource, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cassette = load_cassette(cassette)
        self.app = build_app(self.cassette)

        async def factory() -> web.Application:
            return self.app

        self._server = BackgroundServer(factory, host=host, port=port, name="anthropic-emulator")

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self.app[STATE_KEY].requests)

    @property
    def remaining_turns(self) -> int:
        """Scripted turns not played yet; 0 once the harness followed the whole script."""
        return self.app[STATE_KEY].script.remaining

    def start(self) -> AnthropicEmulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> AnthropicEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
