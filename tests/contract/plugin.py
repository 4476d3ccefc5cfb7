"""A pytest plugin that holds the GitHub emulator to GitHub's official descriptions: every REST
response and webhook delivery any test makes it send is validated (`check.py`), and a test whose
traffic does not match fails with each finding named.

Traffic is collected process-wide (and from `atomesh dev` subprocesses, through the log file
GITHUB_EMULATOR_TRAFFIC_LOG names) and checked when each test tears down, so what a module or
session fixture's emulator sends between tests is checked with the next test. The end of the run
prints how many exchanges were validated. `--github-contract=report` lists the findings in that
summary without failing tests (to measure an emulator before fixing it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from atomesh.devstack.github import traffic

from .check import MAX_FINDINGS, Finding, check
from .common import (
    MergeableTally,
    TrafficCollector,
    fail_with,
    hand_tally_to_controller,
    log_subprocess_traffic,
    take_worker_tally,
)
from .descriptions import Descriptions, DescriptionsMissing, descriptions


@dataclass
class Tally(MergeableTally):
    responses: int = 0
    deliveries: int = 0
    injected: int = 0
    mismatched: int = 0
    operations: set[str] = field(default_factory=set)
    webhooks: set[str] = field(default_factory=set)
    findings: Counter[str] = field(default_factory=Counter)


class Collector(TrafficCollector[traffic.Exchange]):
    """REST responses and webhook deliveries, checked against GitHub's descriptions (`load`)."""

    def __init__(self, log: Path, load: Callable[[], Descriptions] = descriptions) -> None:
        super().__init__(log, traffic.read_log)
        self._load = load
        self.tally = Tally()

    def validate(self, exchanges: list[traffic.Exchange]) -> list[Finding]:
        if not exchanges:
            return []
        try:
            known = self._load()
        except DescriptionsMissing as exc:
            pytest.fail(f"GitHub contract check: {exc}", pytrace=False)
        findings: list[Finding] = []
        for exchange in exchanges:
            if exchange.injected:
                # A fault a test injected on purpose is not what the emulator claims GitHub sends.
                self.tally.injected += 1
                continue
            found = check(known, exchange)
            if exchange.kind == "delivery":
                self.tally.deliveries += 1
                self.tally.webhooks.add(exchange.headers.get("X-GitHub-Event", "?"))
            else:
                self.tally.responses += 1
                operation = known.operation(exchange.method, exchange.path)
                self.tally.operations.add(operation.operation_id if operation else exchange.path)
            if found:
                self.tally.mismatched += 1
                self.tally.findings.update(f"{f.subject} {f.pointer} {f.rule}" for f in found)
            findings += found
        return findings


COLLECTOR = pytest.StashKey[Collector]()
WORKER_OUTPUT = "atomesh_github_contract"
MODE = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--github-contract",
        choices=("enforce", "report"),
        default="enforce",
        help="enforce: a test whose GitHub emulator traffic mismatches GitHub's description fails; "
        "report: only count and list mismatches in the summary",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Subprocesses a test starts (`atomesh dev`) inherit the variable and log their traffic there.
    log = log_subprocess_traffic(config, traffic.LOG_ENV, "atomesh-github-traffic-")
    collector = Collector(log)
    config.stash[COLLECTOR] = collector
    config.stash[MODE] = str(config.getoption("--github-contract"))
    config.add_cleanup(traffic.subscribe(collector))


@pytest.fixture(autouse=True)
def github_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """Autouse and set up first, so its teardown runs after the emulators of the test are closed."""
    collector = request.config.stash[COLLECTOR]
    yield
    findings = collector.validate(collector.drain())
    if findings and request.config.stash[MODE] == "enforce":
        fail_with(
            findings,
            f"the GitHub emulator sent {len(findings)} thing(s) GitHub's description does not allow",
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
    try:
        collector.validate(collector.drain())
    except pytest.fail.Exception as exc:
        terminalreporter.write_line(str(exc))
        return
    tally = collector.tally
    if not (tally.responses or tally.deliveries or tally.injected):
        return
    terminalreporter.write_sep("-", "GitHub contract")
    terminalreporter.write_line(
        f"{tally.responses} REST responses over {len(tally.operations)} operations and {tally.deliveries} "
        f"webhook deliveries of {len(tally.webhooks)} events validated; {tally.mismatched} with mismatches; "
        f"{tally.injected} injected faults not checked"
    )
    if config.stash[MODE] == "report":
        for finding, count in tally.findings.most_common():
            terminalreporter.write_line(f"  {count:4d}  {finding}")
