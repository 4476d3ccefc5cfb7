"""The cassettes `atomesh dev` plays work with every harness; its component serves them; a request
no turn of the example agents' cassette fits fails the run with a message saying so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from tests.fixtures.anthropic import find_cli
from tests.integration.harness.harness_support import changed, harness_env, make_repo

from atomesh.commands.dev import agents_cassette
from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.devstack.anthropic.component import AnthropicComponent, demo_cassette_path
from atomesh.harness import HarnessLimits, ModelAccess, Task, build_harness

pytestmark = pytest.mark.integration


HARNESSES = [
    "litellm",
    pytest.param("claude-code", marks=pytest.mark.skipif(not find_cli("claude"), reason="claude not installed")),
    pytest.param("opencode", marks=pytest.mark.skipif(not find_cli("opencode"), reason="opencode not installed")),
]


@pytest.mark.parametrize("kind", HARNESSES)
def test_every_harness_follows_the_demo(tmp_path: Path, kind: str) -> None:
    repo = make_repo(tmp_path / "ws")
    with AnthropicEmulator(demo_cassette_path()) as emulator:
        access = ModelAccess(model="claude-sonnet-4-5", base_url=emulator.url, api_key="sk-ant-demo")
        limits = HarnessLimits(max_turns=5, timeout_seconds=120)
        result = build_harness(kind, access).run(Task("Do the demo."), tmp_path / "ws", limits, harness_env())
    assert result.ok, result.message
    assert result.usage.turns == 2
    assert changed(repo) == {"docs/atomesh-demo.md": "A"}


def test_component_serves_on_the_stack_loop() -> None:
    async def scenario() -> tuple[str, int, dict[str, object]]:
        component = AnthropicComponent()
        url = await component.start()
        try:
            async with aiohttp.ClientSession() as session:
                body = {"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
                async with session.post(f"{url}/v1/messages", json=body, headers={"x-api-key": "k"}) as response:
                    return url, response.status, await response.json()
        finally:
            await component.stop()

    url, status, reply = asyncio.run(scenario())
    assert url.startswith("http://127.0.0.1:")
    assert status == 200
    assert reply["content"] == [{"type": "text", "text": "OK."}]


@pytest.mark.parametrize("kind", HARNESSES)
def test_an_unscripted_request_fails_the_run_with_its_reason(tmp_path: Path, kind: str) -> None:
    repo = make_repo(tmp_path / "ws")
    task = Task(
        "# Task\n\nRename every variable to a single letter.\n",
        "You are the atomesh agent 'my-own-agent', running unattended in a sandbox.",
    )
    with AnthropicEmulator(agents_cassette()) as emulator:
        access = ModelAccess(model="claude-sonnet-4-5", base_url=emulator.url, api_key="sk-ant-demo")
        limits = HarnessLimits(max_turns=5, timeout_seconds=120)
        result = build_harness(kind, access).run(task, tmp_path / "ws", limits, harness_env())
        refused = [r for r in emulator.requests if r.status == 400]
    assert not result.ok
    assert result.reason == "ModelError", result.message
    assert "no scripted turn for this request (agent 'my-own-agent', harness " in result.message
    assert refused
    assert all(r.turn is None and r.body.get("tools") for r in refused)
    assert changed(repo) == {}
