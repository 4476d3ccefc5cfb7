"""A pod's native sidecars (init containers with `restartPolicy: Always`): each kept running by its own
task, restarted after a back-off doubling from 1 s to 5 min when it exits (as kubelets do), and all
stopped together, last started first, once the pod's containers are done."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

BACKOFF_START = 1.0
BACKOFF_MAX = 300.0

# Runs the sidecar's process once, until it exits; sets the event once the process has started.
RunOnce = Callable[[asyncio.Event], Awaitable[None]]
# Says (an Event) that the sidecar is about to be restarted.
OnBackoff = Callable[[], Awaitable[None]]


class Sidecars:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, name: str, run_once: RunOnce, on_backoff: OnBackoff) -> None:
        """Return once the sidecar's process runs: the next init container then starts, as with a
        sidecar without startupProbe."""
        started = asyncio.Event()
        task = asyncio.create_task(self._keep(run_once, on_backoff, started), name=f"sidecar {name}")
        self._tasks.append(task)
        await started.wait()

    async def _keep(self, run_once: RunOnce, on_backoff: OnBackoff, started: asyncio.Event) -> None:
        backoff = BACKOFF_START
        while True:
            await run_once(started)
            await on_backoff()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def stop(self) -> bool:
        """Stop every sidecar (each stops its process with the pod's grace); whether there were any."""
        for task in reversed(self._tasks):
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return bool(self._tasks)
