"""A Mesh's status when its spec is invalid, the Events its condition changes post, and its spend."""

from __future__ import annotations

from mesh_builders import NOW as MESH_NOW
from mesh_builders import agents, merged, mesh, run

from atomesh.api import conditions as c
from atomesh.api.mesh import Mesh, MeshStatus
from atomesh.core.conditions import condition, find
from atomesh.core.meshplan import plan_mesh
from atomesh.core.meshstatus import invalid_mesh_status, mesh_events

NOW = "2026-11-24T12:00:00Z"


def test_an_invalid_spec_stalls_the_mesh_and_keeps_its_rollup() -> None:
    previous = MeshStatus(active_runs=2, conditions=[condition(c.READY, c.TRUE, c.RECONCILED, "ok", 1)])
    status = invalid_mesh_status(previous, 2, "spec.agents: field required", NOW)
    stalled, ready = find(status.conditions, c.STALLED), find(status.conditions, c.READY)
    assert stalled is not None
    assert ready is not None
    assert (stalled.status, stalled.reason, stalled.message) == (c.TRUE, c.INVALID_SPEC, "spec.agents: field required")
    assert (ready.status, ready.reason, ready.last_transition_time) == (c.FALSE, c.INVALID_SPEC, NOW)
    assert (status.observed_generation, status.active_runs) == (2, 2)


def test_events_only_for_conditions_that_changed() -> None:
    ready = condition(c.READY, c.TRUE, c.RECONCILED, "3/3 agents ready")
    within = condition(c.BUDGET_EXCEEDED, c.FALSE, c.WITHIN_BUDGET, "$1.00 of $5.00 spent today (UTC)")
    over = condition(c.BUDGET_EXCEEDED, c.TRUE, c.BUDGET_EXCEEDED_REASON, "$5.00 of $5.00 spent today (UTC)")
    stalled = condition(c.STALLED, c.TRUE, c.INVALID_GRAPH, "a cycle")
    assert mesh_events([ready, within], [ready, within]) == []
    # A new Ready is announced; a first BudgetExceeded=False is not news.
    assert [(e.type, e.reason) for e in mesh_events([], [ready, within])] == [("Normal", c.RECONCILED)]
    assert [(e.type, e.reason) for e in mesh_events([ready, within], [ready, over])] == [
        ("Warning", c.BUDGET_EXCEEDED_REASON)
    ]
    assert [(e.type, e.reason) for e in mesh_events([ready, over], [ready, within])] == [("Normal", c.WITHIN_BUDGET)]
    assert [(e.type, e.reason) for e in mesh_events([ready], [stalled, ready])] == [("Warning", c.INVALID_GRAPH)]


def test_the_mesh_shows_its_budget_windows_and_cost_per_accepted_artifact_by_hand() -> None:
    base = mesh(["write", "review"])
    budgeted = Mesh.model_validate(
        {
            **base.model_dump(by_alias=True),
            "spec": {**base.spec.model_dump(by_alias=True), "budget": {"perDay": {"usd": 1}}},
        }
    )
    runs = [
        run("w1", "write", phase="Succeeded", review=merged(1), cost=0.30),
        run("w2", "write", phase="Failed", cost=0.10),  # costs, accepts nothing
        run("r1", "review", phase="Succeeded", review=merged(2), cost=0.20),
        run("w3", "write", execution="ex2", phase="Queued"),  # waits for a budget window: queued, spent nothing
    ]
    status = plan_mesh(budgeted, agents("write", "review"), runs, MESH_NOW).status
    assert status.artifact_cost is not None
    # By hand: (0.30 + 0.10 + 0.20) / 2 merged pull requests.
    assert (status.artifact_cost.cost_usd, status.artifact_cost.merged, status.artifact_cost.cost_per_accepted_usd) == (
        0.6,
        2,
        0.3,
    )
    assert [(w.window, w.cost_usd, w.limit_usd, w.percent) for w in status.budget] == [("day", 0.6, 1.0, 60)]
    assert (status.queued_runs, status.active_runs) == (1, 0)
