"""What every handler of one operator instance shares: configuration, the Kubernetes port,
the clock, the ref resolver, metrics, and per-run locks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from atomesh.api.agent import ModelPrice
from atomesh.controller.coalesce import Coalescer
from atomesh.controller.metrics import Metrics
from atomesh.core.config import OperatorConfig
from atomesh.core.schedule import to_rfc3339
from atomesh.forge.refs import resolve_ref
from atomesh.kube.client import Kube
from atomesh.pricing import price_of


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OperatorContext:
    config: OperatorConfig
    kube: Kube
    clock: Callable[[], datetime] = utc_now
    resolver: Callable[[str, str], str] = resolve_ref
    prices: Callable[[str], ModelPrice | None] = price_of
    # (owner/name, branch) -> commit through the forge's API with the operator's credentials; None
    # without forge credentials, when only workspaces given as git URLs can be checked.
    branch_head: Callable[[str, str], str] | None = None
    metrics: Metrics = field(default_factory=Metrics)
    followups: Coalescer = field(default_factory=Coalescer)
    _locks: dict[tuple[str, str], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> str:
        return to_rfc3339(self.clock())

    @contextmanager
    def locked(self, namespace: str, name: str) -> Iterator[None]:
        """Serialise the run's own handler and its pod's handler: both read, decide and write its status."""
        with self._guard:
            lock = self._locks.setdefault((namespace, name), threading.Lock())
        with lock:
            yield

    def forget(self, namespace: str, name: str) -> None:
        with self._guard:
            self._locks.pop((namespace, name), None)
