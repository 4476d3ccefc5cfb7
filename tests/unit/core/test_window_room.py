"""A window's hard limit holds mid-flight: a run starts with what its budget windows have left (the tightest
window, in dollars and tokens), its run file carries it, and its model proxy's grant stops it there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core_builders import agent, run

from atomesh.api.agentrun import AgentRunStatus, Usage
from atomesh.api.budget import BudgetLimit, BudgetWindows, WindowRoom
from atomesh.api.runfile import RunFile
from atomesh.core.budget import BudgetScope, RunSpend, window_room
from atomesh.core.config import OperatorConfig
from atomesh.core.plan import Create
from atomesh.core.pod import RUN_FILE_ANNOTATION
from atomesh.core.runstart import plan_run
from atomesh.modelproxy.main import build_grant

NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
READY = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@0123456789ab",
    "specHash": "0123456789ab" * 5,
}


def spent(name: str, agent_name: str, cost: float, tokens: int = 0) -> RunSpend:
    return RunSpend(name, agent_name, "", NOW - timedelta(hours=1), cost, tokens)


def test_the_room_is_the_tightest_window_of_every_budget_in_dollars_and_tokens() -> None:
    own = BudgetScope(
        "Agent/tidy",
        BudgetWindows(per_day=BudgetLimit(usd=0.5), per_month=BudgetLimit(tokens=10_000)),
        lambda r: r.agent == "tidy",
    )
    team = BudgetScope("Budget/team", BudgetWindows(per_month=BudgetLimit(usd=1.0)), lambda r: True)
    runs = [spent("a", "tidy", 0.1, 4000), spent("b", "lint", 0.75, 100)]
    room = window_room([own, team], runs, NOW)
    assert room == WindowRoom(
        usd=0.15, usd_window="Budget/team perMonth", tokens=6000, tokens_window="Agent/tidy perMonth"
    )
    assert window_room([own], [spent("a", "tidy", 0.9)], NOW) == WindowRoom(
        usd=0.0, usd_window="Agent/tidy perDay", tokens=10_000, tokens_window="Agent/tidy perMonth"
    )
    assert window_room([BudgetScope("Agent/x", BudgetWindows(), lambda r: True)], runs, NOW) is None


def run_file(limits: dict[str, object], **extra: object) -> RunFile:
    spec = agent(limits={"timeout": "15m", **limits}).spec
    return RunFile(namespace="team", run="tidy-1", agent="tidy", spec=spec, branch="atomesh/tidy/tidy-1", **extra)


def test_the_hard_limits_are_the_per_run_ones_or_the_window_room_on_top_of_the_spend() -> None:
    plain = run_file({"maxCostUSD": 0.5}).hard_limits()
    assert (plain.max_cost_usd, plain.max_tokens, plain.cost_from) == (
        0.5,
        None,
        "limits.maxCostUSD, budget.perRun.usd",
    )
    room = WindowRoom(usd=0.2, usd_window="Agent/tidy perDay", tokens=900, tokens_window="Budget/team perMonth")
    first = run_file({"maxCostUSD": 0.5, "maxTokens": 5000}, window_room=room).hard_limits()
    assert (first.max_cost_usd, first.cost_from) == (0.2, "Agent/tidy perDay")
    assert (first.max_tokens, first.tokens_from) == (900, "Budget/team perMonth")
    # A resumed attempt may spend the room on top of what the run spent before.
    earlier = Usage(input_tokens=3000, output_tokens=500, cost_usd=0.35, turns=4)
    resumed = run_file({"maxCostUSD": 0.5}, window_room=room, spent=earlier, attempt=2).hard_limits()
    assert (resumed.max_cost_usd, resumed.cost_from) == (0.5, "limits.maxCostUSD, budget.perRun.usd")
    assert (resumed.max_tokens, resumed.tokens_from) == (4400, "Budget/team perMonth")
    grant = build_grant(run_file({"maxCostUSD": 0.5}, window_room=room), now=0.0)
    assert (grant.max_cost_usd, grant.max_tokens, grant.cost_from) == (0.2, 900, "Agent/tidy perDay")


def test_a_started_run_carries_its_window_room_in_its_run_file() -> None:
    room = WindowRoom(usd=0.2, usd_window="Agent/tidy perDay")
    plan = plan_run(
        run(),
        AgentRunStatus(),
        agent=agent(READY, budget={"perDay": {"usd": 1}}),
        previous=None,
        pod=None,
        config=OperatorConfig(runner_image="runner:test"),
        now="2026-11-24T15:30:00Z",
        generation=1,
        window_room=room,
    )
    (create,) = plan.actions
    assert isinstance(create, Create)
    carried = RunFile.model_validate_json(create.manifest["metadata"]["annotations"][RUN_FILE_ANNOTATION])
    assert (carried.window_room, carried.attempt) == (room, None)
    assert create.manifest["metadata"]["name"] == "tidy-1-runner"
