"""A seeded Kubernetes API emulator and the console served over it, each test module its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.fixtures.kube import RunningKubeAPI, write_kubeconfig
from tests.integration.console.seed import ensure_namespace, seed
from tests.unit.core.supervision_builders import scenario

from atomesh.commands.console import ConsoleComponent
from atomesh.devstack.kube import KubeAPIServer


@dataclass
class RunningConsole:
    url: str
    component: ConsoleComponent
    kube: RunningKubeAPI


class LoopThread:
    """An event loop in a thread, for the console's async start and stop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="console-test-loop", daemon=True)
        self.thread.start()

    def run(self, coroutine: object, timeout: float = 60) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@pytest.fixture(scope="module")
def seeded_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningKubeAPI]:
    directory = tmp_path_factory.mktemp("console-kube")
    with KubeAPIServer() as server:
        kube = RunningKubeAPI(server, write_kubeconfig(server.url, directory / "kubeconfig"), directory / "cache")
        kube.apply_crds()
        ensure_namespace(kube, "team-a")
        agents, meshes, runs = scenario(datetime.now(UTC))
        seed(kube, [*agents, *meshes, *runs])
        yield kube


@pytest.fixture(scope="module")
def console(seeded_kube: RunningKubeAPI) -> Iterator[RunningConsole]:
    loop = LoopThread()
    component = ConsoleComponent(Path(seeded_kube.kubeconfig), port=0)
    try:
        url = loop.run(component.start())
        yield RunningConsole(str(url), component, seeded_kube)
    finally:
        loop.run(component.stop())
        loop.close()
