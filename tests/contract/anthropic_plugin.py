"""A pytest plugin that holds the Anthropic emulator to the anthropic SDK's own models: every
response any test makes it send (messages, stream events, count_tokens, models, errors) is checked
(`anthropic_check.py`), and a test whose traffic does not fit fails with each finding named.

Traffic is collected process-wide (and from `atomesh dev` subprocesses, through the log file
MODEL_EMULATOR_TRAFFIC_LOG names) and checked when each test tears down. The end of the run
prints how many responses were validated. `--anthropic-contract=report` lists the findings in that
summary without failing tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from atomesh.devstack.anthropic import traffic

from .anthropic_check import MAX_FINDINGS, Finding, check
from .common import (
    MergeableTally,
    TrafficCollector,
    fail_with,
    hand_tally_to_controller,
    log_subprocess_traffic,
    take_worker_tally,
)


@dataclass
class Tally(MergeableTally):
    responses: int = 0
    events: int = 0
    mismatched: int = 0
    endpoints: set[str] = field(default_factory=set)
    findings: Counter[str] = field(default_factory=Counter)


class Collector(TrafficCollector[traffic.Exchange]):
    """Responses, checked against the anthropic SDK's models (ids must be unique across the session)."""

    def __init__(self, log: Path) -> None:
        super().__init__(log, traffic.read_log)
        self._seen_ids: set[str] = set()
        self.tally = Tally()

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
    hand_tally_to_controller(session, session.config.stash.get(COLLECTOR, None), WORKER_OUTPUT)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: add a finished worker's tally to the controller's."""
    take_worker_tally(node, node.config.stash.get(COLLECTOR, None), WORKER_OUTPUT)


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
