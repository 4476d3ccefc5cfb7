"""The order in which `atomesh dev` starts and stops its components."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from atomesh.devstack.stack import Stack


class Recorder:
    def __init__(self, name: str, log: list[str], *, fail_start: bool = False, fail_stop: bool = False) -> None:
        self.name = name
        self._log = log
        self._fail_start = fail_start
        self._fail_stop = fail_stop

    async def start(self) -> str | None:
        self._log.append(f"start {self.name}")
        if self._fail_start:
            raise OSError(f"{self.name} cannot start")
        return None

    async def stop(self) -> None:
        self._log.append(f"stop {self.name}")
        if self._fail_stop:
            raise RuntimeError(f"{self.name} cannot stop")


def test_components_stop_in_reverse_including_the_one_whose_start_failed() -> None:
    log: list[str] = []
    stack = Stack([Recorder("a", log), Recorder("b", log, fail_start=True), Recorder("c", log)], say=log.append)

    async def scenario() -> None:
        with pytest.raises(OSError, match="b cannot start"):
            await stack.start()
        await stack.stop()

    asyncio.run(scenario())
    assert log == ["start a", "a          running", "start b", "stop b", "stop a"]


def test_a_component_that_fails_to_stop_does_not_leave_the_earlier_ones_running() -> None:
    log: list[str] = []
    stack = Stack([Recorder("a", log), Recorder("b", log, fail_stop=True), Recorder("c", log)], say=lambda _: None)

    async def scenario() -> None:
        await stack.start()
        with pytest.raises(RuntimeError, match="b cannot stop"):
            await stack.stop()

    asyncio.run(scenario())
    assert log == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


def test_a_kubeconfig_of_a_stack_still_running_is_not_overwritten(tmp_path: Path) -> None:
    from atomesh.devstack.stack import KubeApiComponent, StackStillRunning

    kubeconfig = tmp_path / "kubeconfig"

    async def scenario() -> str:
        first = KubeApiComponent(port=0, kubeconfig=kubeconfig)
        url = await first.start()
        try:
            second = KubeApiComponent(port=0, kubeconfig=kubeconfig)
            with pytest.raises(StackStillRunning, match="--kubeconfig PATH"):
                await second.start()
            assert url in kubeconfig.read_text()  # still the running stack's
        finally:
            await first.stop()
        # Once that stack is gone, its kubeconfig is only a leftover: a new stack takes the file.
        third = KubeApiComponent(port=0, kubeconfig=kubeconfig)
        new_url = await third.start()
        await third.stop()
        return new_url

    new_url = asyncio.run(scenario())
    assert new_url in kubeconfig.read_text()
