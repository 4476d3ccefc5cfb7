"""A pytest plugin that holds the Anthropic emulator to the anthropic SDK's own models: every
response any test makes it send (messages, stream events, count_tokens, models, errors) is checked
(`anthropic_check.py`), and a test whose traffic does not fit fails with each finding named.

Traffic is collected process-wide (and from `atomesh dev` subprocesses, through the log file
MODEL_EMULATOR_TRAFFIC_LOG names) and checked when each test tears down. The end of the run
prints how many responses were validated. `--anthropic-contract=report` lists the findings in that
summary without failing tests.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from atomesh.devstack.anthropic import traffic

from .anthropic_check import MAX_FINDINGS, Finding, check
from .common import fail_with, log_subprocess_traffic


@dataclass
class Tally:
    responses: int = 0
    events: int = 0
    mismatched: int = 0
    endpoints: set[str] = field(default_factory=set)
    findings: Counter[str] = field(default_factory=Counter)

    def dump(self) -> dict[str, Any]:
        """Plain data, for a pytest-xdist worker to hand its tally to the controller."""
        counts = [self.responses, self.events, self.mismatched]
        return {"counts": counts, "endpoints": sorted(self.endpoints), "findings": dict(self.findings)}

    def add(self, data: dict[str, Any]) -> None:
        responses, events, mismatched = data["counts"]
        self.responses += responses
        self.events += events
        self.mismatched += mismatched
        self.endpoints.update(data["endpoints"])
        self.findings.update(data["findings"])


class Collector:
    """Responses of this process's emulators, and those `atomesh dev` subprocesses log to `log`."""

    def __init__(self, log: Path) -> None:
        self._lock = threading.Lock()
        self._pending: list[traffic.Exchange] = []
        self._offset = 0
        self._seen_ids: set[str] = set()
        self.log = log
        self.tally = Tally()

    def __call__(self, exchange: traffic.Exchange) -> None:
        with self._lock:
            self._pending.append(exchange)

    def drain(self) -> list[traffic.Exchange]:
        with self._lock:
            taken, self._pending = self._pending, []
            logged, self._offset = traffic.read_log(str(self.log), self._offset)
        return taken + logged

    def validate(self, exchanges: list[traffic.Exchange]) -> list[Finding]:
        findings: list[Finding] = []
        for exchange in exchanges:
            found = check(exchange, self._seen_ids)
            self.tally.responses += 1
            self.tally.events += len(exchange.events)
            self.tally.endpoints.add(f"{exchange.method} {exchange.path} {exchange.status}")
            if found:
                self.tally.mismatched += 1
                self.tally.findings.update(f"{f.subject} {f.field} {f.rule}" for f in found)
            findings += found
        return findings


COLLECTOR = pytest.StashKey[Collector]()
MODE = pytest.StashKey[str]()
WORKER_OUTPUT = "atomesh_anthropic_contract"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--anthropic-contract",
        choices=("enforce", "report"),
        default="enforce",
        help="enforce: a test whose Anthropic emulator traffic does not fit the anthropic SDK's models fails; "
        "report: only count and list mismatches in the summary",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Subprocesses a test starts (`atomesh dev`) inherit the variable and log their traffic there.
    log = log_subprocess_traffic(config, traffic.LOG_ENV, "atomesh-anthropic-traffic-")
    collector = Collector(log)
    config.stash[COLLECTOR] = collector
    config.stash[MODE] = str(config.getoption("--anthropic-contract"))
    config.add_cleanup(traffic.subscribe(collector))


@pytest.fixture(autouse=True)
def anthropic_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Autouse and set up first, so its teardown runs after the emulators of the test are closed."""
    collector = request.config.stash[COLLECTOR]
    yield
    findings = collector.validate(collector.drain())
    if findings and request.config.stash[MODE] == "enforce":
        fail_with(
            findings,
            f"the Anthropic emulator sent {len(findings)} thing(s) the anthropic SDK's models do not allow",
            MAX_FINDINGS,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    collector = config.stash.get(COLLECTOR, None)
    output = getattr(config, "workeroutput", None)
    if collector is not None and output is not None:
        with contextlib.suppress(pytest.fail.Exception):
            collector.validate(collector.drain())
        output[WORKER_OUTPUT] = collector.tally.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: add a finished worker's tally to the controller's."""
    data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    collector = node.config.stash.get(COLLECTOR, None)
    if data is not None and collector is not None:
        collector.tally.add(data)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    collector = config.stash.get(COLLECTOR, None)
    if collector is None:
        return
    collector.validate(collector.drain())
    tally = collector.tally
    if not tally.responses:
        return
    terminalreporter.write_sep("-", "Anthropic contract")
    terminalreporter.write_line(
        f"{tally.responses} responses ({tally.events} stream events) over {len(tally.endpoints)} endpoint/status "
        f"pairs validated against the anthropic SDK's models; {tally.mismatched} with mismatches"
    )
    if config.stash[MODE] == "report":
        for finding, count in tally.findings.most_common():
            terminalreporter.write_line(f"  {count:4d}  {finding}")
