"""The model emulator as a component of `atomesh dev`: harnesses in runner pods point at it
(ATOMESH_MODEL_BASE_URL) unless real model credentials are configured."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from atomesh.devstack.anthropic.app import build_app
from atomesh.devstack.anthropic.cassette import load_cassette
from atomesh.devstack.serving import LOOPBACK, start_site

DEMO_CASSETTE = "demo.yaml"


def demo_cassette_path() -> Path:
    """The packaged cassette `atomesh dev` plays by default: a small docs change any harness can make."""
    return Path(str(resources.files("atomesh.devstack.anthropic") / "cassettes" / DEMO_CASSETTE))


class AnthropicComponent:
    """`start()` serves the emulator on the stack's loop and returns its base URL."""

    name = "model"

    def __init__(self, cassette: Path | None = None, host: str = LOOPBACK, port: int = 0) -> None:
        self.cassette = load_cassette(cassette or demo_cassette_path())
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        self._runner, self.port = await start_site(build_app(self.cassette), self.host, self.port)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
