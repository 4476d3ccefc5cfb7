"""`--compare`'s side-by-side report: rows pair each baseline run with the compared harness's run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from atomesh.agenttest.case import CaseSpec, TestCase
from atomesh.agenttest.comparison import comparison_properties, comparison_table, pair_results
from atomesh.agenttest.execution import CaseResult
from atomesh.agenttest.expectations import Miss, Observed
from atomesh.agenttest.report import junit_xml
from atomesh.commands.test import compare_problem


def case(name: str) -> TestCase:
    manifest = {"metadata": {"name": "bug-fix"}, "spec": {"harness": {"kind": "claude-code"}}}
    return TestCase(Path(f"agents/bug-fix/tests/{name}/case.yaml"), CaseSpec(), manifest, Path("agents/bug-fix.yaml"))


def result(test: TestCase, harness: str, *, passed: bool, cost: float, turns: int) -> CaseResult:
    misses = [] if passed else [Miss("expect.verdict", "wanted success, got failure")]
    observed = Observed(outcome="published", verdict="success" if passed else "failure", cost_usd=cost, turns=turns)
    return CaseResult(test, harness, Path("out"), misses, seconds=1.0, observed=observed)


BLANK, FAILING = case("blank-name"), case("failing-fix")
BASELINE = [
    result(BLANK, "claude-code", passed=True, cost=0.0123, turns=4),
    result(FAILING, "claude-code", passed=False, cost=0.02, turns=6),
]
COMPARED = [
    result(BLANK, "litellm", passed=False, cost=0.0099, turns=3),
    result(FAILING, "litellm", passed=False, cost=0.01, turns=5),
]


def test_rows_pair_each_baseline_run_with_the_same_case_under_the_compared_harness() -> None:
    rows = pair_results(BASELINE, [*BASELINE, *reversed(COMPARED)], "litellm")
    assert [(row.baseline.case.name, row.compared and row.compared.harness) for row in rows] == [
        ("blank-name", "litellm"),
        ("failing-fix", "litellm"),
    ]
    # a regression is a case the baseline passes and the compared harness fails; both failing is none
    assert [row.regression for row in rows] == [True, False]


def test_a_case_the_compared_harness_did_not_run_is_a_regression_shown_as_missing() -> None:
    rows = pair_results(BASELINE[:1], [], "litellm")
    assert rows[0].compared is None
    assert rows[0].regression
    assert comparison_table(rows, "litellm").splitlines()[1].split() == [
        "bug-fix/blank-name", "claude-code", "PASSED", "published", "success", "-", "$0.0123", "-", "4", "-",
        "REGRESSION",
    ]  # fmt: skip


def test_the_table_shows_verdict_cost_and_turns_side_by_side_and_counts_regressions() -> None:
    lines = comparison_table(pair_results(BASELINE, COMPARED, "litellm"), "litellm").splitlines()
    assert lines[0].split() == [
        "case", "baseline", "verdict", "verdict", "(litellm)", "cost", "cost", "(litellm)", "turns", "turns",
        "(litellm)",
    ]  # fmt: skip
    assert lines[1].split() == [
        "bug-fix/blank-name", "claude-code", "PASSED", "published", "success", "FAILED", "published", "failure",
        "$0.0123", "$0.0099", "4", "3", "REGRESSION",
    ]  # fmt: skip
    assert lines[2].split()[-4:] == ["$0.0200", "$0.0100", "6", "5"]
    assert lines[-1] == "1 regression(s) with litellm in 2 case run(s)"
    # columns line up: each cell starts where its header does
    assert lines[1].index("$0.0123") == lines[0].index("cost ") == lines[2].index("$0.0200")


def test_junit_carries_the_comparison_as_properties_of_the_baseline_testcase() -> None:
    rows = pair_results(BASELINE, COMPARED, "litellm")
    properties = {(r.baseline.case.file, r.baseline.harness): comparison_properties(r, "litellm") for r in rows}
    suite = ET.fromstring(junit_xml([*BASELINE, *COMPARED], 2.0, properties)).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    found = {p.get("name"): p.get("value") for p in cases["blank-name[claude-code]"].iter("property")}
    assert found["atomesh.compare.verdict"] == "FAILED published failure"
    assert found["atomesh.compare.baseline.costUSD"] == "$0.0123"
    assert found["atomesh.compare.turns"] == "3"
    assert found["atomesh.compare.regression"] == "true"
    assert cases["blank-name[litellm]"].find("properties") is None


def test_compare_refuses_an_unknown_harness_a_nameless_model_and_mixing_with_harness_model_or_record() -> None:
    assert compare_problem("model=claude-haiku-4-5", None, False) is None
    nameless = compare_problem("model=", None, False)
    assert nameless is not None
    assert "name the model" in nameless
    unknown = compare_problem("gpt", None, False)
    assert unknown is not None
    assert "claude-code, opencode, litellm or model=NAME" in unknown
    assert compare_problem("litellm", "claude-code", False) is not None
    assert compare_problem("litellm", None, True) is not None
    assert compare_problem("model=claude-haiku-4-5", None, False, "claude-opus-4-5") is not None
    assert compare_problem("litellm", None, False) is None


def model_result(test: TestCase, harness: str, model: str | None, *, passed: bool, cost: float) -> CaseResult:
    outcome = result(test, harness, passed=passed, cost=cost, turns=4)
    outcome.model = model
    return outcome


def test_another_model_pairs_each_baseline_run_with_the_same_harness_on_that_model() -> None:
    baseline = [model_result(BLANK, "claude-code", None, passed=True, cost=0.03)]
    runs = [
        *baseline,
        model_result(BLANK, "litellm", "claude-haiku-4-5", passed=False, cost=0.01),  # another harness: not a pair
        model_result(BLANK, "claude-code", "claude-opus-4-5", passed=False, cost=0.05),  # another model
        model_result(BLANK, "claude-code", "claude-haiku-4-5", passed=True, cost=0.01),
    ]
    [row] = pair_results(baseline, runs, "model=claude-haiku-4-5")
    assert row.compared is runs[3]
    assert not row.regression
    assert comparison_table([row], "model=claude-haiku-4-5").splitlines()[1].split()[-4:] == [
        "$0.0300", "$0.0100", "4", "4"
    ]  # fmt: skip
    properties = comparison_properties(row, "model=claude-haiku-4-5")
    assert properties["atomesh.compare.model"] == "claude-haiku-4-5"
    assert properties["atomesh.compare.harness"] == "claude-code"
    # a harness comparison never pairs a run that replaced the model
    [by_harness] = pair_results(baseline, runs, "litellm")
    assert by_harness.compared is None


def test_a_model_name_becomes_a_file_name_of_its_own() -> None:
    assert BLANK.cassette_for(None) == BLANK.cassette_path
    recorded = BLANK.cassette_for("anthropic/claude-haiku-4-5")
    assert recorded.name == "anthropic_claude-haiku-4-5.yaml"
    assert recorded.parent.name == "cassettes"
    assert BLANK.cassette_for("../../etc").parent.name == "cassettes"  # never outside the case's folder
