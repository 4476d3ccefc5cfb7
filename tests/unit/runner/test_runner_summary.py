"""The termination message always fits in 4 KiB and stays a parseable PublishSummary."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from atomesh.api import constants as k
from atomesh.api.agentrun import Artifact, ReviewStatus, Usage
from atomesh.api.runfile import CheckResult, PublishSummary
from atomesh.runner.summary import fit_summary, fit_text


def summary(files: list[str], tails: list[str], message: str) -> PublishSummary:
    return PublishSummary(
        outcome="published",
        artifact=Artifact(type="code", branch="atomesh/a/r", commit="c" * 40, files=files),
        review=ReviewStatus(repo="demo/app", url="http://forge/demo/app/pull/7", number=7, state="open"),
        usage=Usage(input_tokens=10, output_tokens=5, cost_usd=0.01, turns=2),
        checks=[CheckResult(name=f"c{i}", passed=False, exit_code=1, output_tail=t) for i, t in enumerate(tails)],
        message=message,
    )


def test_small_summary_is_unchanged() -> None:
    original = summary(["a.py"], ["ok"], "opened")
    assert PublishSummary.model_validate(json.loads(fit_summary(original))) == original


def test_huge_summary_keeps_the_pull_request() -> None:
    big = summary([f"src/file_{i:05d}.py" for i in range(2000)], ["é" * 3000] * 5, "m" * 10_000)
    text = fit_summary(big)
    assert len(text.encode()) <= k.TERMINATION_MESSAGE_LIMIT
    parsed = PublishSummary.model_validate(json.loads(text))
    assert parsed.review is not None
    assert parsed.review.number == 7
    assert parsed.outcome == "published"


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(st.text(min_size=1, max_size=80), max_size=300),
    tails=st.lists(st.text(max_size=3000), max_size=8),
    message=st.text(max_size=5000),
)
def test_any_summary_fits(files: list[str], tails: list[str], message: str) -> None:
    text = fit_summary(summary(files, tails, message))
    assert len(text.encode()) <= k.TERMINATION_MESSAGE_LIMIT
    assert PublishSummary.model_validate(json.loads(text)).outcome == "published"


def test_fit_text_never_splits_a_character() -> None:
    text = fit_text("ü" * 5000)
    assert len(text.encode()) <= k.TERMINATION_MESSAGE_LIMIT
    assert text.endswith("...")
    assert fit_text("short") == "short"
