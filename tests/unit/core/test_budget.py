"""Budget accounting, pure: calendar windows in UTC and in a time zone, the spend of the runs in them,
the gate a new run passes, the Budget's status plan, and cost per accepted artifact by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from core_builders import agent, run

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRun, AgentRunStatus
from atomesh.api.budget import Budget, BudgetLimit, BudgetWindows
from atomesh.core.admission import admit_run
from atomesh.core.budget import (
    BudgetScope,
    RunSpend,
    artifact_cost,
    budget_gate,
    run_spend,
    window_bounds,
    window_spend,
)
from atomesh.core.budgetplan import plan_budget, scopes_for_run
from atomesh.core.config import OperatorConfig
from atomesh.core.requeue import Stalled, Waiting
from atomesh.core.runstart import plan_run

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)


def spend(name: str, agent_name: str, hours_ago: float, cost: float, tokens: int = 0, **extra: Any) -> RunSpend:
    started = NOW - timedelta(hours=hours_ago)
    return RunSpend(name, agent_name, extra.get("mesh", ""), started, cost, tokens, extra.get("merged", ""))


def test_a_day_and_a_month_in_utc() -> None:
    assert window_bounds("day", NOW) == (datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    assert window_bounds("month", NOW) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    december = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert window_bounds("month", december)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_day_in_a_declared_time_zone_begins_at_local_midnight_and_may_be_23_hours_long() -> None:
    # 00:30 UTC on 25 Nov is 09:30 in Tokyo: the Tokyo day began at 15:00 UTC the day before.
    start, end = window_bounds("day", datetime(2026, 11, 25, 0, 30, tzinfo=UTC), "Asia/Tokyo")
    assert (start, end) == (datetime(2026, 11, 24, 15, tzinfo=UTC), datetime(2026, 11, 25, 15, tzinfo=UTC))
    # Europe/Paris moves to summer time on 29 March 2026: that day has 23 hours.
    start, end = window_bounds("day", datetime(2026, 3, 29, 12, tzinfo=UTC), "Europe/Paris")
    assert (start, end) == (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))


def test_window_spend_counts_runs_started_in_the_window_whole() -> None:
    runs = [
        spend("a", "tidy", 1, 0.02, 1000),
        spend("b", "tidy", 15, 0.03, 2000),  # 00:30 today: in
        spend("c", "tidy", 16, 0.50, 9000),  # 23:30 yesterday: out of the day, in the month
    ]
    day = window_spend(runs, "day", BudgetLimit(usd=0.10, tokens=4000), NOW, "UTC")
    assert (day.cost_usd, day.tokens, day.runs, day.percent) == (0.05, 3000, 2, 75)
    assert (day.start, day.end) == ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
    month = window_spend(runs, "month", BudgetLimit(usd=1.0), NOW, "UTC")
    assert (month.cost_usd, month.runs, month.percent) == (0.55, 3, 55)


def test_a_spent_window_blocks_until_it_opens_and_names_the_budget() -> None:
    scope = BudgetScope("Agent/tidy", BudgetWindows(per_day=BudgetLimit(usd=0.05)), lambda r: r.agent == "tidy")
    assert budget_gate([scope], [spend("a", "tidy", 1, 0.04)], NOW) is None
    block = budget_gate([scope], [spend("a", "tidy", 1, 0.04), spend("b", "tidy", 2, 0.01)], NOW)
    assert block is not None
    assert block.opens_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert block.delay(NOW) == 8.5 * 3600
    assert block.message.startswith("Agent/tidy perDay: $0.0500 of $0.05 spent; waiting until 2026-11-25T00:00:00Z")
    # Another agent's spend does not count against tidy's own budget.
    assert budget_gate([scope], [spend("a", "other", 1, 5.0)], NOW) is None


def test_a_token_limit_holds_as_well_and_the_latest_opening_wins() -> None:
    windows = BudgetWindows(per_day=BudgetLimit(tokens=1000), per_month=BudgetLimit(usd=0.5))
    scope = BudgetScope("Mesh/docs", windows, lambda r: r.mesh == "docs")
    block = budget_gate([scope], [spend("a", "tidy", 1, 0.5, 1000, mesh="docs")], NOW)
    assert block is not None
    assert block.opens_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert "Mesh/docs perDay: 1000 of 1000 tokens spent; Mesh/docs perMonth: $0.5000 of $0.5 spent" in block.message


def budget(name: str = "platform", **spec: Any) -> Budget:
    return Budget.model_validate({"metadata": {"name": name, "namespace": "team", "generation": 1}, "spec": spec})


def test_a_namespace_budget_caps_two_agents_together() -> None:
    tidy = agent()
    tidy.metadata.labels = {"team": "docs"}
    shared = budget(perDay={"usd": 0.10}, selector={"matchLabels": {"team": "docs"}})
    agents = {"tidy": {"team": "docs"}, "lint": {"team": "docs"}, "ops": {"team": "ops"}}
    runs = [spend("a", "tidy", 1, 0.04), spend("b", "lint", 1, 0.06), spend("c", "ops", 1, 9.0)]
    scopes = scopes_for_run(tidy, None, [shared], agents)
    assert [scope.owner for scope in scopes] == ["Budget/platform"]
    block = budget_gate(scopes, runs, NOW)
    assert block is not None
    assert block.message.startswith("Budget/platform perDay: $0.1000 of $0.1 spent")
    # An agent the selector does not pick is not capped by it.
    ops = agent()
    ops.metadata.name, ops.metadata.labels = "ops", {"team": "ops"}
    assert scopes_for_run(ops, None, [shared], agents) == []


def test_an_agent_budget_and_an_unselective_budget_both_apply() -> None:
    tidy = agent(budget={"perDay": {"usd": 1.0}})
    scopes = scopes_for_run(tidy, None, [budget(perMonth={"tokens": 10})], {})
    assert [scope.owner for scope in scopes] == ["Agent/tidy", "Budget/platform"]


def test_the_budget_plan_accounts_warns_once_and_recounts_at_the_latest_within_a_minute() -> None:
    shared = budget(perDay={"usd": 0.10}, warnAtPercent=50)
    runs = [spend("a", "tidy", 1, 0.06)]
    plan = plan_budget(shared, {"tidy": {}}, runs, NOW, 1)
    status = dict(plan.status or {})
    assert status["costTodayUSD"] == 0.06
    assert status["windows"][0]["percent"] == 60
    conditions = {cond["type"]: (cond["status"], cond["reason"]) for cond in status["conditions"]}
    assert conditions == {
        c.READY: (c.TRUE, c.BUDGET_ACCOUNTED),
        c.BUDGET_WARNING: (c.TRUE, c.BUDGET_WARNING_REASON),
        c.BUDGET_EXCEEDED: (c.FALSE, c.WITHIN_BUDGET),
    }
    assert [(event.type, event.reason) for event in plan.events] == [("Warning", c.BUDGET_WARNING_REASON)]
    assert isinstance(plan.requeue, Waiting)
    assert plan.requeue.after == 60.0

    written = Budget.model_validate({**shared.model_dump(by_alias=True), "status": status})
    again = plan_budget(written, {"tidy": {}}, [*runs, spend("b", "tidy", 0.5, 0.04)], NOW, 1)
    assert [(event.type, event.reason) for event in again.events] == [("Warning", c.BUDGET_EXCEEDED_REASON)]
    assert plan_budget(written, {"tidy": {}}, runs, NOW, 1).events == ()


def test_a_budget_in_an_unknown_time_zone_is_stalled_and_ignored_by_the_gate() -> None:
    broken = budget(perDay={"usd": 0.01}, timezone="Mars/Olympus")
    plan = plan_budget(broken, {}, [], NOW, 1)
    assert isinstance(plan.requeue, Stalled)
    assert "spec.timezone: unknown time zone 'Mars/Olympus'" in str(plan.requeue)
    assert scopes_for_run(agent(), None, [broken], {}) == []


def test_cost_per_accepted_artifact_by_hand() -> None:
    runs = [
        spend("a", "tidy", 1, 0.10, merged="acme/site#1"),
        spend("a-rev1", "tidy", 1, 0.05, merged="acme/site#1"),  # its revision merged the same pull request
        spend("b", "tidy", 2, 0.20, merged="acme/site#2"),
        spend("c", "tidy", 3, 0.03),  # failed: costs, accepts nothing
        spend("d", "tidy", 24 * 40, 9.0, merged="acme/site#0"),  # outside the window
    ]
    cost = artifact_cost(runs, NOW - timedelta(days=1), NOW)
    assert (cost.cost_usd, cost.merged, cost.per_accepted_usd) == (0.38, 2, 0.19)
    assert artifact_cost(runs[3:4], NOW - timedelta(days=1), NOW).per_accepted_usd is None


def test_run_spend_reads_usage_start_and_the_merged_pull_request() -> None:
    done = run().model_copy(
        update={
            "status": AgentRunStatus.model_validate(
                {
                    "phase": "Succeeded",
                    "startTime": "2026-11-24T10:00:00Z",
                    "usage": {"inputTokens": 100, "outputTokens": 20, "costUSD": 0.01},
                    "review": {"repo": "acme/site", "number": 7, "state": "merged"},
                }
            )
        }
    )
    assert run_spend(done) == RunSpend(
        "tidy-1", "tidy", "", datetime(2026, 11, 24, 10, tzinfo=UTC), 0.01, 120, "acme/site#7"
    )


READY_STATUS: dict[str, Any] = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@0123456789ab",
    "specHash": "0123456789ab" * 5,
}


def test_a_new_run_over_budget_waits_queued_until_the_window_opens() -> None:
    scope = BudgetScope("Agent/tidy", BudgetWindows(per_day=BudgetLimit(usd=0.05)), lambda r: True)
    block = budget_gate([scope], [spend("a", "tidy", 1, 0.05)], NOW)
    new = run("tidy-2")
    plan = plan_run(
        new,
        AgentRunStatus(),
        agent=agent(READY_STATUS),
        previous=None,
        pod=None,
        config=OperatorConfig(runner_image="runner:test"),
        now="2026-11-24T15:30:00Z",
        generation=1,
        budget=block,
    )
    status = dict(plan.status or {})
    assert (status["phase"], status["reason"]) == ("Queued", c.BUDGET_EXCEEDED_REASON)
    assert plan.actions == ()
    assert isinstance(plan.requeue, Waiting)
    assert plan.requeue.after == 8.5 * 3600
    assert [(event.type, event.reason) for event in plan.events] == [("Normal", c.BUDGET_EXCEEDED_REASON)]


@pytest.mark.parametrize(
    ("spec", "field"),
    [({"budget": {"perDay": {"usd": 0.05}}}, "budget.perDay.usd=$0.05"), ({"limits": {"maxCostUSD": 1}}, "limits")],
)
def test_an_unknown_model_is_refused_under_any_dollar_limit_naming_the_model(spec: dict[str, Any], field: str) -> None:
    unpriced = {
        "type": c.COST_UNKNOWN_CONDITION,
        "status": "True",
        "reason": c.COST_UNKNOWN,
        "message": "model 'acme-llm' has no price",
    }
    status = {**READY_STATUS, "conditions": READY_STATUS["conditions"] + [unpriced]}
    admission = admit_run(AgentRun.model_validate(run().model_dump(by_alias=True)), agent(status, **spec))
    assert (admission.verdict, admission.reason) == ("fail", c.COST_UNKNOWN)
    assert field in admission.message
    assert "acme-llm" in admission.message
