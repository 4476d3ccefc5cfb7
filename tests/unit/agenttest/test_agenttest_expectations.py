"""A case's expectations against what a run produced: each miss names the expectation it breaks."""

from __future__ import annotations

from atomesh.agenttest.case import Expectations
from atomesh.agenttest.expectations import Observed, evaluate

PUBLISHED = Observed(
    outcome="published",
    message="opened pull request #1 with 2 changed file(s)",
    changed=("src/app.py", "tests/test_app.py"),
    contents={"src/app.py": "def f():\n    raise ValueError('empty')\n", "gone.txt": None},
    verdict="success",
    checks={"tests": True, "lint": False},
    cost_usd=0.12,
    turns=4,
    title="[atomesh] bug-fix: Fixed issue 1",
    labels=("atomesh", "bug"),
    body="### Changes\n",
)


def expect(data: dict[str, object]) -> Expectations:
    return Expectations.model_validate(data)


def names(data: dict[str, object], observed: Observed = PUBLISHED) -> list[str]:
    return [miss.expectation for miss in evaluate(expect(data), observed)]


def test_every_expectation_that_holds_gives_no_miss() -> None:
    data = {
        "outcome": "published",
        "message": {"contains": ["pull request #1"]},
        "files": {"changed": ["src/**", "tests/test_app.py"], "only": ["src/**", "tests/**"], "unchanged": ["docs/**"]},
        "content": [
            {"path": "src/app.py", "contains": ["ValueError"], "notContains": ["TODO"], "matches": r"^\s+raise \w+"},
            {"path": "gone.txt", "deleted": True},
        ],
        "verdict": "success",
        "checks": {"tests": "passed", "lint": "failed"},
        "maxCostUSD": 0.5,
        "maxTurns": 4,
        "minTurns": 1,
        "pullRequest": {"title": {"contains": ["bug-fix"]}, "labels": ["bug"], "body": {"contains": ["Changes"]}},
    }
    assert evaluate(expect(data), PUBLISHED) == []


def test_file_expectations_name_the_glob_and_the_files() -> None:
    misses = evaluate(
        expect({"files": {"changed": ["docs/**"], "only": ["src/**"], "unchanged": ["tests/**"]}}), PUBLISHED
    )
    assert [m.expectation for m in misses] == [
        "expect.files.changed[0]",
        "expect.files.only",
        "expect.files.unchanged[0]",
    ]
    assert "changed: src/app.py, tests/test_app.py" in misses[0].message
    assert misses[1].message == "tests/test_app.py changed, outside ['src/**']"


def test_content_expectations_name_the_matcher() -> None:
    data = {
        "content": [
            {
                "path": "src/app.py",
                "contains": ["ValueError", "TypeError"],
                "notContains": ["raise"],
                "matches": "^class ",
            },
            {"path": "missing.py", "contains": ["x"]},
            {"path": "src/app.py", "deleted": True},
            {"path": "src/app.py", "equals": "other"},
        ]
    }
    assert names(data) == [
        "expect.content[0].contains[1]",
        "expect.content[0].notContains[0]",
        "expect.content[0].matches",
        "expect.content[1].path",
        "expect.content[2].deleted",
        "expect.content[3].equals",
    ]


def test_a_bad_regular_expression_is_a_miss_not_a_crash() -> None:
    (miss,) = evaluate(expect({"content": [{"path": "src/app.py", "matches": "("}]}), PUBLISHED)
    assert miss.expectation == "expect.content[0].matches"
    assert "not a valid regular expression" in miss.message


def test_review_expectations() -> None:
    data = {
        "verdict": "failure",
        "checks": {"tests": "failed", "lint": "passed", "types": "passed"},
        "pullRequest": {"title": {"equals": "Fix"}, "labels": ["bug", "security"]},
    }
    misses = evaluate(expect(data), PUBLISHED)
    assert [str(m) for m in misses] == [
        "expect.verdict: wanted failure, got success",
        "expect.checks.tests: wanted failed, got passed",
        "expect.checks.lint: wanted passed, got failed",
        "expect.checks.types: wanted passed, got not run",
        "expect.pullRequest.title.equals: wanted 'Fix', got '[atomesh] bug-fix: Fixed issue 1'",
        "expect.pullRequest.labels[1]: 'security' is missing (labels: atomesh, bug)",
    ]


def test_cost_and_turn_bounds() -> None:
    assert names({"maxCostUSD": 0.1, "maxTurns": 3, "minTurns": 5}) == [
        "expect.maxCostUSD",
        "expect.maxTurns",
        "expect.minTurns",
    ]
    unreported = Observed(outcome="published")
    assert names({"maxCostUSD": 1, "maxTurns": 3}, unreported) == ["expect.maxCostUSD", "expect.maxTurns"]


def test_a_different_outcome_is_the_one_miss_and_says_why_the_run_failed() -> None:
    failed = Observed(outcome="failed", reason="PathsNotAllowed", message="1 file(s) outside spec.output.paths")
    (miss,) = evaluate(expect({"verdict": "success"}), failed)
    assert str(miss) == (
        "expect.outcome: wanted published, got failed: PathsNotAllowed: 1 file(s) outside spec.output.paths"
    )


def test_a_failed_run_is_judged_on_its_reason() -> None:
    failed = Observed(outcome="failed", reason="HarnessFailed", message="the model said no", changed=("README.md",))
    assert names({"outcome": "failed", "reason": "HarnessFailed", "files": {"changed": ["README.md"]}}, failed) == []
    assert names({"outcome": "failed", "reason": "PathsNotAllowed"}, failed) == ["expect.reason"]


def test_no_pull_request_when_one_is_expected() -> None:
    none = Observed(outcome="noChanges", message="the agent changed nothing")
    assert names({"outcome": "noChanges", "pullRequest": {"labels": ["bug"]}}, none) == ["expect.pullRequest"]


def test_a_run_paused_at_its_limit_is_its_own_outcome_with_its_reason() -> None:
    paused = Observed(outcome="paused", reason="BudgetExceeded", message="paused at its limit", cost_usd=0.12, turns=2)
    assert names({"outcome": "paused", "reason": "BudgetExceeded", "maxTurns": 2}, paused) == []
    assert names({"outcome": "paused", "reason": "TokensExceeded"}, paused) == ["expect.reason"]
    assert names({}, paused) == ["expect.outcome"]  # a case that expects a pull request sees the pause
