"""A case's expectations against what a run produced: pure, one `Miss` per expectation that does not hold.

Each miss names the expectation by its place in the case file (`expect.files.changed[0]`), says
what was wanted and what the run gave, so a failing report points at the line to fix or the
behaviour that changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from atomesh.agenttest.case import Expectations, TextMatch
from atomesh.runner.paths import allowed

_SHOWN = 200


@dataclass(frozen=True)
class Miss:
    expectation: str  # e.g. expect.verdict
    message: str

    def __str__(self) -> str:
        return f"{self.expectation}: {self.message}"


@dataclass(frozen=True)
class Observed:
    """What one run of a case produced."""

    outcome: str  # published, noChanges, failed or paused
    reason: str | None = None
    message: str = ""
    changed: tuple[str, ...] = ()
    contents: dict[str, str | None] = field(default_factory=dict)  # path -> text after the run, None if absent
    verdict: str | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    cost_usd: float | None = None
    turns: int | None = None
    title: str | None = None
    labels: tuple[str, ...] = ()
    body: str | None = None


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 1] + "…"


def text_misses(where: str, match: TextMatch, text: str) -> list[Miss]:
    misses: list[Miss] = []
    if match.equals is not None and text != match.equals:
        misses.append(Miss(f"{where}.equals", f"wanted {_short(match.equals)!r}, got {_short(text)!r}"))
    for index, needle in enumerate(match.contains):
        if needle not in text:
            misses.append(Miss(f"{where}.contains[{index}]", f"{needle!r} is not in {_short(text)!r}"))
    for index, needle in enumerate(match.not_contains):
        if needle in text:
            misses.append(Miss(f"{where}.notContains[{index}]", f"{needle!r} is in the text"))
    if match.matches is not None:
        try:
            found = re.search(match.matches, text, re.MULTILINE) is not None
        except re.error as error:
            misses.append(Miss(f"{where}.matches", f"not a valid regular expression: {error}"))
        else:
            if not found:
                misses.append(Miss(f"{where}.matches", f"/{match.matches}/ finds nothing in {_short(text)!r}"))
    return misses


def _file_misses(expect: Expectations, observed: Observed) -> list[Miss]:
    misses: list[Miss] = []
    files = expect.files
    changed = list(observed.changed)
    shown = ", ".join(changed) or "no file"
    if files is not None:
        for index, pattern in enumerate(files.changed):
            if not any(allowed(path, [pattern]) for path in changed):
                misses.append(
                    Miss(f"expect.files.changed[{index}]", f"no changed file matches {pattern!r} (changed: {shown})")
                )
        if files.only is not None:
            outside = [path for path in changed if not allowed(path, files.only)]
            if outside:
                misses.append(Miss("expect.files.only", f"{', '.join(outside)} changed, outside {files.only}"))
        for index, pattern in enumerate(files.unchanged):
            hit = [path for path in changed if allowed(path, [pattern])]
            if hit:
                misses.append(Miss(f"expect.files.unchanged[{index}]", f"{', '.join(hit)} changed"))
    for index, content in enumerate(expect.content):
        where = f"expect.content[{index}]"
        text = observed.contents.get(content.path)
        if content.deleted:
            if text is not None:
                misses.append(Miss(f"{where}.deleted", f"{content.path} still exists"))
            continue
        if text is None:
            misses.append(Miss(f"{where}.path", f"{content.path} does not exist after the run"))
            continue
        misses += text_misses(where, content, text)
    return misses


def _usage_misses(expect: Expectations, observed: Observed) -> list[Miss]:
    misses: list[Miss] = []
    if expect.max_cost_usd is not None:
        if observed.cost_usd is None:
            misses.append(Miss("expect.maxCostUSD", "the run reported no cost"))
        elif observed.cost_usd > expect.max_cost_usd:
            misses.append(Miss("expect.maxCostUSD", f"cost ${observed.cost_usd:.6f} > ${expect.max_cost_usd:g}"))
    turns = observed.turns
    if expect.max_turns is not None and (turns is None or turns > expect.max_turns):
        misses.append(Miss("expect.maxTurns", f"{turns if turns is not None else 'no'} turns > {expect.max_turns}"))
    if expect.min_turns is not None and (turns is None or turns < expect.min_turns):
        misses.append(Miss("expect.minTurns", f"{turns if turns is not None else 'no'} turns < {expect.min_turns}"))
    return misses


def _review_misses(expect: Expectations, observed: Observed) -> list[Miss]:
    misses: list[Miss] = []
    if expect.verdict is not None and observed.verdict != expect.verdict:
        misses.append(Miss("expect.verdict", f"wanted {expect.verdict}, got {observed.verdict or 'no check run'}"))
    for name, state in expect.checks.items():
        passed = observed.checks.get(name)
        got = "not run" if passed is None else ("passed" if passed else "failed")
        if got != state:
            misses.append(Miss(f"expect.checks.{name}", f"wanted {state}, got {got}"))
    pull = expect.pull_request
    if pull is not None:
        if observed.title is None:
            return [*misses, Miss("expect.pullRequest", "no pull request was opened")]
        if pull.title is not None:
            misses += text_misses("expect.pullRequest.title", pull.title, observed.title)
        if pull.body is not None:
            misses += text_misses("expect.pullRequest.body", pull.body, observed.body or "")
        for index, label in enumerate(pull.labels):
            if label not in observed.labels:
                have = ", ".join(observed.labels) or "none"
                misses.append(Miss(f"expect.pullRequest.labels[{index}]", f"{label!r} is missing (labels: {have})"))
    return misses


def evaluate(expect: Expectations, observed: Observed) -> list[Miss]:
    """Every expectation that does not hold; [] when the run is as expected."""
    if observed.outcome != expect.outcome:
        detail = f": {observed.reason}: {observed.message}" if observed.reason else ""
        return [Miss("expect.outcome", f"wanted {expect.outcome}, got {observed.outcome}{detail}")]
    misses: list[Miss] = []
    if expect.reason is not None and observed.reason != expect.reason:
        misses.append(Miss("expect.reason", f"wanted {expect.reason}, got {observed.reason}: {observed.message}"))
    if expect.message is not None:
        misses += text_misses("expect.message", expect.message, observed.message)
    return misses + _file_misses(expect, observed) + _usage_misses(expect, observed) + _review_misses(expect, observed)
