"""What the GitHub and Anthropic contract plugins do alike: collect the traffic of this process's
emulators and of those a test starts in another process (`atomesh dev`), keep a tally that
pytest-xdist workers hand to the controller, and fail a test with its findings."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import pytest

Exchange = TypeVar("Exchange")


class MergeableTally:
    """A dataclass of counts (int), names seen (set) and findings (Counter) that a pytest-xdist worker
    dumps as plain data and the controller adds up, field by field."""

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]  # subclasses are dataclasses
            value = getattr(self, item.name)
            data[item.name] = (
                sorted(value) if isinstance(value, set) else dict(value) if isinstance(value, Counter) else value
            )
        return data

    def add(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            mine = getattr(self, name)
            if isinstance(mine, set | Counter):
                mine.update(value)
            else:
                setattr(self, name, mine + value)


class TrafficCollector(Generic[Exchange]):
    """Exchanges of this process's emulators (it is their observer), and those subprocesses log to `log`."""

    def __init__(self, log: Path, read_log: Callable[[str, int], tuple[list[Exchange], int]]) -> None:
        self._lock = threading.Lock()
        self._pending: list[Exchange] = []
        self._offset = 0
        self._read_log = read_log
        self.log = log

    def __call__(self, exchange: Exchange) -> None:
        with self._lock:
            self._pending.append(exchange)

    def drain(self) -> list[Exchange]:
        with self._lock:
            taken, self._pending = self._pending, []
            logged, self._offset = self._read_log(str(self.log), self._offset)
        return taken + logged


class Validating(Protocol):
    @property
    def tally(self) -> MergeableTally: ...

    def drain(self) -> list[Any]: ...

    def validate(self, exchanges: list[Any]) -> list[Any]: ...


def hand_tally_to_controller(session: pytest.Session, collector: Validating | None, key: str) -> None:
    """On a pytest-xdist worker: check what is left and put the tally where the controller reads it."""
    output = getattr(session.config, "workeroutput", None)
    if collector is not None and output is not None:
        with contextlib.suppress(pytest.fail.Exception):
            collector.validate(collector.drain())
        output[key] = collector.tally.dump()


def take_worker_tally(node: Any, collector: Validating | None, key: str) -> None:
    """On the controller: add a finished worker's tally to its own."""
    data = getattr(node, "workeroutput", {}).get(key)
    if data is not None and collector is not None:
        collector.tally.add(data)


def log_subprocess_traffic(config: pytest.Config, variable: str, prefix: str) -> Path:
    """A fresh log file that subprocesses find in `variable` (they inherit it) and append their traffic
    to; the variable is restored and the file removed when the session ends."""
    log = Path(tempfile.mkdtemp(prefix=prefix)) / "traffic.jsonl"
    previous = os.environ.get(variable)
    os.environ[variable] = str(log)

    def restore() -> None:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
        shutil.rmtree(log.parent, ignore_errors=True)

    config.add_cleanup(restore)
    return log


def fail_with(findings: Sequence[object], what: str, limit: int) -> None:
    """Fail the test: `what` (e.g. "the GitHub emulator sent N thing(s) ...") and the first `limit` findings."""
    shown = "\n".join(f"  {finding}" for finding in findings[:limit])
    more = f"\n  ... and {len(findings) - limit} more" if len(findings) > limit else ""
    pytest.fail(f"{what}:\n{shown}{more}", pytrace=False)
