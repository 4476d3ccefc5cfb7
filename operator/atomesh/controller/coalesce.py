"""Coalescing of follow-up work: many pokes of one key within `delay` seconds run its action once.

A burst of runs of one agent changes phase hundreds of times a minute; recomputing the agent's
rollup (list its runs, patch its status) and pruning its history on every change made the
operator's work quadratic in the burst. Poked here instead, each agent's rollup runs at most
once per `delay`, in one background thread, with the latest action for its key.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)


class Coalescer:
    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay
        self._pending: dict[Hashable, Callable[[], None]] = {}
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def poke(self, key: Hashable, action: Callable[[], None]) -> None:
        """Run `action` soon; a later poke of the same key before it runs replaces it."""
        with self._wake:
            if self._stopping:
                return
            self._pending[key] = action
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="atomesh-coalescer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if self._stopping and not self._pending:
                    return
            time.sleep(self.delay)  # let the burst gather under the same keys
            with self._wake:
                batch, self._pending = self._pending, {}
            for key, action in batch.items():
                try:
                    action()
                except Exception:  # the next poke of the key retries it
                    log.exception("follow-up %r failed", key)

    def stop(self, timeout: float = 10.0) -> None:
        """Run what is pending, then stop."""
        with self._wake:
            self._stopping = True
            thread = self._thread
            self._wake.notify()
        if thread is not None:
            thread.join(timeout)
