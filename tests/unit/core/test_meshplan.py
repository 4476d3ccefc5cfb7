"""The mesh planner: edges, fan-out and fan-in, input mapping, exactly-once, limits and the status rollup."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from mesh_builders import MESH, NOW, Cluster, agent, agents, merged, mesh, run

from atomesh.api.constants import ANNOTATION_INPUT_ERROR, ANNOTATION_QUEUED, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.core.conditions import find
from atomesh.core.meshplan import MeshPlan, mesh_run_name, new_execution_id, plan_mesh, start_execution

CHAIN = mesh(["triage", "fix", "notes"], [{"from": "triage", "to": "fix"}, {"from": "fix", "to": "notes"}])
CHAIN_AGENTS = agents("triage", "fix", "notes")


def test_execution_ids_and_run_names_are_deterministic_and_bounded() -> None:
    assert new_execution_id(MESH, "triage-1") == new_execution_id(MESH, "triage-1")
    assert new_execution_id(MESH, "triage-1") != new_execution_id(MESH, "triage-2")
    assert new_execution_id(MESH, "triage-1") != new_execution_id("other", "triage-1")
    long = mesh_run_name("m" * 60, new_execution_id(MESH, "x"), "n" * 63)
    assert len(long) <= 56
    assert long == mesh_run_name("m" * 60, new_execution_id(MESH, "x"), "n" * 63)
    assert long != mesh_run_name("m" * 60, new_execution_id(MESH, "x"), "n" * 62 + "o")
    assert mesh_run_name("release", "ab12", "fix") == "release-ab12-fix"


UPSTREAM_CASES: list[tuple[str, str, list[dict[str, Any]], str]] = [
    # (id, edge when, upstream runs as (phase, review), expected: create | wait | stop)
    ("merged fires accepted", "accepted", [{"phase": "Succeeded", "review": merged()}], "create"),
    ("open PR waits", "accepted", [{"phase": "AwaitingReview", "review": {"state": "open"}}], "wait"),
    ("running waits", "accepted", [{"phase": "Running"}], "wait"),
    ("closed stops accepted", "accepted", [{"phase": "Rejected", "review": {"state": "closed"}}], "stop"),
    ("failed stops accepted", "accepted", [{"phase": "Failed"}], "stop"),
    ("no-changes success is not accepted", "accepted", [{"phase": "Succeeded"}], "stop"),
    ("failed fires completed", "completed", [{"phase": "Failed"}], "create"),
    ("rejected fires completed", "completed", [{"phase": "Rejected", "review": {"state": "closed"}}], "create"),
    ("awaiting review is not completed", "completed", [{"phase": "AwaitingReview"}], "wait"),
    (
        "merged revision fires accepted while the original awaits",
        "accepted",
        [{"phase": "AwaitingReview", "review": {"state": "open"}}, {"phase": "Succeeded", "review": merged(2)}],
        "create",
    ),
    (
        "completed waits for the whole revision chain",
        "completed",
        [{"phase": "AwaitingReview", "review": {"state": "open"}}, {"phase": "Failed"}],
        "wait",
    ),
]


@pytest.mark.parametrize(
    ("when", "upstream", "expected"), [case[1:] for case in UPSTREAM_CASES], ids=[case[0] for case in UPSTREAM_CASES]
)
def test_edge_fires_on_its_state(when: str, upstream: list[dict[str, Any]], expected: str) -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b", "when": when, "input": {"from": "${upstream.run}"}}])
    runs = [run(f"a-{index}", "a", **fields) for index, fields in enumerate(upstream)]
    plan = plan_mesh(target, agents("a", "b"), runs, NOW)
    assert [planned.node for planned in plan.create] == (["b"] if expected == "create" else [])
    assert [branch.node for branch in plan.stopped] == (["b"] if expected == "stop" else [])
    if expected == "create":
        created = plan.create[0]
        manifest = created.manifest("team")
        assert created.name == mesh_run_name(MESH, "ex1", "b")
        assert manifest["spec"]["trigger"] == {"kind": "mesh", "source": "release/a->b"}
        assert manifest["metadata"]["labels"][LABEL_MESH_EXECUTION] == "ex1"
        assert created.upstream_runs == (created.input["from"],)
        # With a revision chain, the merged revision is the upstream run.
        assert created.input["from"] == ("a-1" if len(upstream) == 2 else "a-0")


def test_fan_out_starts_every_downstream_node() -> None:
    target = mesh(["a", "b", "c"], [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}])
    plan = plan_mesh(target, agents("a", "b", "c"), [run("a-1", "a", phase="Succeeded", review=merged())], NOW)
    assert [planned.node for planned in plan.create] == ["b", "c"]


def test_fan_in_waits_for_every_upstream_of_the_same_execution() -> None:
    target = mesh(
        ["a", "b", "c"],
        [
            {"from": "a", "to": "c", "input": {"docs": "${upstream.review.url}"}},
            {"from": "b", "to": "c", "when": "completed", "input": {"both": "${upstreams.a.run}+${upstreams.b.run}"}},
        ],
    )
    known = agents("a", "b", "c")
    a_done = run("a-1", "a", phase="Succeeded", review=merged(7))
    other_execution_b = run("b-9", "b", execution="ex2", phase="Failed")
    assert plan_mesh(target, known, [a_done, other_execution_b], NOW).create == ()
    b_running = run("b-1", "b", phase="Running")
    assert plan_mesh(target, known, [a_done, b_running], NOW).create == ()
    b_done = run("b-1", "b", phase="Failed")
    (created,) = plan_mesh(target, known, [a_done, b_done], NOW).create
    assert created.node == "c"
    assert created.upstream_runs == ("a-1", "b-1")
    assert created.edges == ("a->c", "b->c")
    assert created.input == {"docs": "https://github.test/acme/app/pull/7", "both": "a-1+b-1"}


def test_closed_upstream_stops_the_branch_but_not_its_siblings() -> None:
    target = mesh(["a", "b", "c", "d"], [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}, {"from": "b", "to": "d"}])
    cluster = Cluster([run("a-1", "a", phase="Succeeded", review=merged())])
    known = agents("a", "b", "c", "d")
    cluster.apply(cluster.plan(target, known))
    cluster.set_phase(mesh_run_name(MESH, "ex1", "b"), "Rejected", review={"state": "closed"})
    cluster.set_phase(mesh_run_name(MESH, "ex1", "c"), "Succeeded", review=merged(2))
    plan = cluster.plan(target, known)
    assert plan.create == ()
    assert [(branch.node, branch.execution) for branch in plan.stopped] == [("d", "ex1")]
    assert "upstream b ended Rejected" in plan.stopped[0].reason


INPUT_CASES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("input key keeps its type", {"issue": "${upstream.input.issue}"}, {"issue": 42}),
    ("nested input key", {"repo": "${upstream.input.target.repo}"}, {"repo": "acme/app"}),
    ("files stay a list", {"files": "${upstream.artifact.files}"}, {"files": ["a.py", "b.py"]}),
    ("commit", {"c": "${upstream.artifact.commit}"}, {"c": "abc123"}),
    ("merge commit", {"m": "${upstream.review.mergeCommit}"}, {"m": "m1"}),
    ("run and node", {"who": "${upstream.node}/${upstream.run}"}, {"who": "a/a-1"}),
    (
        "literal around",
        {"t": "Fix #${upstream.input.issue} (${upstream.review.url})"},
        {"t": "Fix #42 (https://github.test/acme/app/pull/1)"},
    ),
    ("list in text is JSON", {"t": "files: ${upstream.artifact.files}"}, {"t": 'files: ["a.py","b.py"]'}),
    ("plain literal", {"mode": "fast"}, {"mode": "fast"}),
]


@pytest.mark.parametrize(
    ("mapping", "expected"), [case[1:] for case in INPUT_CASES], ids=[case[0] for case in INPUT_CASES]
)
def test_input_mapping(mapping: dict[str, str], expected: dict[str, Any]) -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b", "input": mapping}])
    upstream = run(
        "a-1",
        "a",
        phase="Succeeded",
        review=merged(),
        input_={"issue": 42, "target": {"repo": "acme/app"}},
        artifact={"type": "code", "commit": "abc123", "files": ["a.py", "b.py"]},
    )
    (created,) = plan_mesh(target, agents("a", "b"), [upstream], NOW).create
    assert created.error is None
    assert created.input == expected


def test_missing_key_is_recorded_on_the_run_it_would_feed() -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b", "input": {"x": "${upstream.input.missing}", "y": "ok"}}])
    (created,) = plan_mesh(target, agents("a", "b"), [run("a-1", "a", phase="Succeeded", review=merged())], NOW).create
    manifest = created.manifest("team")
    assert created.input == {"y": "ok"}
    assert manifest["metadata"]["annotations"][ANNOTATION_INPUT_ERROR] == (
        "edge a->b: input 'x': ${upstream.input.missing}: upstream run 'a-1' has no input.missing"
    )
    assert created.queued is None


@pytest.mark.parametrize(
    ("target", "known", "message"),
    [
        (mesh(["a", "b"], [{"from": "a", "to": "a"}]), agents("a", "b"), "points at its own node"),
        (mesh(["a", "b"], [{"from": "a", "to": "zz"}]), agents("a", "b"), "unknown node 'zz'"),
        (mesh(["a", "b"], [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]), agents("a", "b"), "cycle"),
        (mesh(["a", "b"], [{"from": "a", "to": "b"}]), agents("a"), "node 'b': Agent 'b' does not exist"),
        (
            mesh(["a", "b"], [{"from": "a", "to": "b", "input": {"k": "${upstreams.zz.run}"}}]),
            agents("a", "b"),
            "spec.edges[0].input.k: edge a -> b: ${upstreams.zz.run} reads node 'zz'",
        ),
        (
            mesh(["a", "b"], [{"from": "a", "to": "b", "input": {"k": "${upstream.secret}"}}]),
            agents("a", "b"),
            "invalid expression ${upstream.secret}",
        ),
    ],
)
def test_invalid_mesh_is_stalled_and_plans_nothing(target: Any, known: Any, message: str) -> None:
    runs = [run("a-1", "a", phase="Succeeded", review=merged()), run("b-1", "b", execution=None)]
    plan = plan_mesh(target, known, runs, NOW)
    stalled = find(plan.status.conditions, "Stalled")
    ready = find(plan.status.conditions, "Ready")
    assert stalled is not None
    assert stalled.status == "True"
    assert stalled.reason == "InvalidGraph"
    assert message in stalled.message
    assert ready is not None
    assert ready.status == "False"
    assert (plan.create, plan.adopt, plan.release) == ((), (), ())


def test_root_runs_are_adopted_into_a_new_execution() -> None:
    user_run = run("triage-manual", "triage", execution=None)
    plan = plan_mesh(CHAIN, CHAIN_AGENTS, [user_run], NOW)
    (adoption,) = plan.adopt
    assert adoption.execution == new_execution_id(MESH, "triage-manual")
    assert adoption.patch() == {
        "metadata": {
            "labels": {LABEL_MESH_NODE: "triage", LABEL_MESH_EXECUTION: adoption.execution},
            "annotations": {},
        }
    }
    assert plan.status.last_execution == adoption.execution
    assert plan.status.active_runs == 1


def test_a_run_that_fits_no_root_node_is_reported_not_adopted() -> None:
    stray = run("fix-manual", "fix", execution=None)
    plan = plan_mesh(CHAIN, CHAIN_AGENTS, [stray], NOW)
    assert plan.adopt == ()
    assert plan.problems == ("run fix-manual: node 'fix' is not a root of the mesh (roots: ['triage'])",)


def _merge_all_awaiting(cluster: Cluster) -> None:
    for name, item in list(cluster.runs.items()):
        if item.status is None and not item.metadata.annotations.get(ANNOTATION_QUEUED):
            cluster.set_phase(name, "Succeeded", review=merged())


def test_three_node_chain_runs_each_node_once_under_replanning() -> None:
    cluster = Cluster([run("triage-manual", "triage", execution=None)])
    for _ in range(6):
        first = cluster.plan(CHAIN, CHAIN_AGENTS)
        assert cluster.plan(CHAIN, CHAIN_AGENTS) == first  # same inputs, same plan
        cluster.apply(first)
        cluster.apply(first)  # applying twice (a retry) changes nothing
        _merge_all_awaiting(cluster)
    execution = new_execution_id(MESH, "triage-manual")
    assert cluster.created == [mesh_run_name(MESH, execution, "fix"), mesh_run_name(MESH, execution, "notes")]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restarts_at_random_points_never_duplicate_or_lose_an_edge(seed: int) -> None:
    rng = random.Random(seed)
    target = mesh(
        ["a", "b", "c", "d"],
        [{"from": "a", "to": "b"}, {"from": "a", "to": "c"}, {"from": "b", "to": "d"}, {"from": "c", "to": "d"}],
        limits={"maxActiveRuns": 2},
    )
    known = agents("a", "b", "c", "d")
    cluster = Cluster([run(f"a-{index}", "a", execution=None) for index in range(5)])
    for _ in range(200):
        plan = cluster.plan(target, known)
        # The operator crashes after a random number of writes, then replans from what the API server holds.
        cluster.apply(plan, stop_after=rng.randint(0, 3))
        assert len(cluster.active()) <= 2
        running = cluster.active()
        if running:
            cluster.set_phase(rng.choice(running), "Succeeded", review=merged())
    names = sorted(cluster.created)
    assert names == sorted(set(names))
    assert len(names) == 5 * 3  # b, c and d once per execution
    assert all(item.status is not None for item in cluster.runs.values())


def test_fifty_concurrent_triggers_queue_behind_max_active_runs() -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b"}], limits={"maxActiveRuns": 5})
    known = agents("a", "b")
    cluster = Cluster(
        [run(f"a-{index:02d}", "a", execution=None, created=NOW + timedelta(seconds=index)) for index in range(50)]
    )
    plan = cluster.plan(target, known)
    assert len(plan.adopt) == 50
    assert [adoption.run for adoption in plan.adopt if adoption.queued is None] == [f"a-{i:02d}" for i in range(5)]
    assert all("maxActiveRuns" in (adoption.queued or "") for adoption in plan.adopt[5:])
    assert (plan.status.active_runs, plan.status.queued_runs) == (5, 45)
    cluster.apply(plan)
    finished: list[str] = []
    for _ in range(400):
        assert len(cluster.active()) <= 5
        running = sorted(cluster.active())
        if not running and not any(item.metadata.annotations.get(ANNOTATION_QUEUED) for item in cluster.runs.values()):
            break
        if running:
            cluster.set_phase(running[0], "Succeeded", review=merged())
            finished.append(running[0])
        cluster.apply(cluster.plan(target, known))
    roots_done = [name for name in finished if name.startswith("a-")]
    assert roots_done == sorted(roots_done)  # FIFO
    assert len(finished) == 100  # every trigger ran, and each fired its edge exactly once
    assert len(cluster.created) == 50


def test_budget_holds_new_runs_until_the_utc_day_rolls_over() -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b"}], limits={"maxCostUSDPerDay": 1.0})
    known = agents("a", "b")
    late = NOW.replace(hour=23, minute=30)
    spent = run("a-1", "a", phase="Succeeded", review=merged(), cost=1.25, completed=late - timedelta(minutes=1))
    yesterday = run("a-0", "a", execution="ex0", phase="Failed", cost=50.0, completed=late - timedelta(days=1))
    cluster = Cluster([spent, yesterday])
    cluster.clock = late
    plan = cluster.plan(target, known)
    budget = find(plan.status.conditions, "BudgetExceeded")
    assert budget is not None
    assert (budget.status, budget.reason) == ("True", "BudgetExceeded")
    assert plan.status.cost_today_usd == 1.25
    (held,) = plan.create
    assert held.queued is not None
    assert "daily budget spent" in held.queued
    cluster.apply(plan)
    assert cluster.active() == []
    midnight = late.replace(hour=0, minute=0) + timedelta(days=1)
    assert cluster.plan(target, known, midnight - timedelta(seconds=1)).release == ()
    after = cluster.plan(target, known, midnight)
    assert after.release == (held.name,)
    assert after.create == ()
    budget = find(after.status.conditions, "BudgetExceeded")
    assert budget is not None
    assert (budget.status, budget.reason) == ("False", "WithinBudget")


def test_budget_holds_fifty_triggers() -> None:
    target = mesh(["a"], limits={"maxCostUSDPerDay": 5.0, "maxActiveRuns": 10})
    spent = run("a-spent", "a", execution="ex0", phase="Succeeded", review=merged(), cost=5.0, completed=NOW)
    triggers = [run(f"a-{index:02d}", "a", execution=None) for index in range(50)]
    plan = plan_mesh(target, agents("a"), [spent, *triggers], NOW)
    assert len(plan.adopt) == 50
    assert all(adoption.queued and "daily budget" in adoption.queued for adoption in plan.adopt)
    assert (plan.status.active_runs, plan.status.queued_runs) == (0, 50)


def test_suspend_holds_new_runs_and_resume_releases_them() -> None:
    upstream = run("a-1", "a", phase="Succeeded", review=merged())
    cluster = Cluster([upstream])
    suspended = mesh(["a", "b"], [{"from": "a", "to": "b"}], suspend=True)
    plan = cluster.plan(suspended, agents("a", "b"))
    assert plan.create[0].queued == "mesh is suspended"
    condition = find(plan.status.conditions, "Suspended")
    assert condition is not None
    assert condition.status == "True"
    cluster.apply(plan)
    resumed = cluster.plan(mesh(["a", "b"], [{"from": "a", "to": "b"}]), agents("a", "b"))
    assert resumed.release == (plan.create[0].name,)


def test_status_rollup() -> None:
    target = mesh(["a", "b", "c"], [{"from": "a", "to": "b"}], limits={"maxActiveRuns": 3})
    known = {"a": agent("a"), "b": agent("b", ready=False)}
    runs = [
        run(
            "a-1", "a", execution="ex1", phase="AwaitingReview", review={"url": "https://github.test/pr/1"}, created=NOW
        ),
        run("a-2", "a", execution="ex2", phase="Running", cost=0.5, created=NOW + timedelta(minutes=1)),
        run("a-3", "a", execution="ex3", queued="waiting", created=NOW + timedelta(minutes=2)),
        run("a-4", "a", execution="ex4", phase="Succeeded", cost=0.25, completed=NOW, created=NOW - timedelta(days=1)),
    ]
    plan = plan_mesh(target, {**known, "c": agent("c")}, runs, NOW)
    status = plan.status
    assert (status.agents_ready, status.agents_total, status.agents_summary) == (2, 3, "2/3")
    assert (status.active_runs, status.queued_runs) == (2, 0)  # a-3 released into the free slot
    assert plan.release == ("a-3",)
    assert status.awaiting_review == 1
    assert [(review.run, review.node, review.url) for review in status.pending_reviews] == [
        ("a-1", "a", "https://github.test/pr/1")
    ]
    assert status.cost_today_usd == 0.75
    assert status.last_execution == "ex3"
    assert status.observed_generation == 3
    ready = find(status.conditions, "Ready")
    assert ready is not None
    assert (ready.status, ready.reason) == ("False", "AgentsNotReady")
    assert "waiting for: b" in ready.message
    assert all(cond.last_transition_time == "2026-03-14T12:00:00Z" for cond in status.conditions)


def test_started_execution_is_admitted_through_the_gate_once() -> None:
    target = mesh(["a", "b"], [{"from": "a", "to": "b"}], limits={"maxActiveRuns": 1})
    busy = run("a-busy", "a", execution="ex0", phase="Running")
    root = start_execution(target, "a", seed="demo-1", input_={"issue": 1})
    assert root == start_execution(target, "a", seed="demo-1", input_={"issue": 1})
    assert root.execution == new_execution_id(MESH, "demo-1")
    manifest = root.manifest("team")
    assert manifest["spec"]["trigger"] == {"kind": "manual", "source": "release/a"}
    assert manifest["metadata"]["annotations"][ANNOTATION_QUEUED]
    cluster = Cluster([busy])
    cluster.apply(MeshPlan(create=(root,)))
    assert cluster.plan(target, agents("a", "b")).release == ()
    cluster.set_phase("a-busy", "Failed")
    assert cluster.plan(target, agents("a", "b")).release == (root.name,)
    with pytest.raises(ValueError, match="not a root"):
        start_execution(target, "b", seed="x")


def test_a_queued_run_is_told_when_its_reason_to_wait_changes() -> None:
    target = mesh(["a"], limits={"maxActiveRuns": 1, "maxCostUSDPerDay": 1.0})
    slot = "waiting for a free slot: maxActiveRuns reached"
    cluster = Cluster(
        [
            run("a-1", "a", execution="ex1", phase="AwaitingReview", cost=1.5),
            run("a-2", "a", execution="ex2", queued=slot),
        ]
    )
    plan = cluster.plan(target, agents("a"))
    assert plan.release == ()
    ((name, why),) = plan.requeue
    assert name == "a-2"
    assert "daily budget spent" in why
    unchanged = Cluster([run("a-3", "a", execution="ex3"), run("a-4", "a", execution="ex4", queued=slot)])
    assert unchanged.plan(mesh(["a"], limits={"maxActiveRuns": 1}), agents("a")).requeue == ()
