"""The fleet table: acceptance, review time and cost per accepted artifact, per agent."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.core.supervision_builders import NOW, agent, at, mesh, run

from atomesh.api import conditions as c
from atomesh.core.supervision import Thresholds
from atomesh.core.supervision_fleet import fleet
from atomesh.core.supervision_overview import overview, overview_document


def test_acceptance_cost_and_revisions_count_pull_requests_not_runs() -> None:
    runs = [
        # PR 1: changes requested once, the revision published onto it and it was merged after 60 minutes.
        run("a", phase="Succeeded", published=200, decided=140, state="merged", url="pr/1", cost=1.0),
        run("a-r1", phase="Succeeded", published=170, decided=140, state="merged", url="pr/1", cost=0.5, revision=1),
        # PR 2: merged after 20 minutes.
        run("b", phase="Succeeded", published=100, decided=80, state="merged", url="pr/2", cost=1.5),
        # PR 3: closed after 40 minutes.
        run("c", phase="Rejected", published=100, decided=60, state="closed", url="pr/3", cost=1.0),
        run("d", phase="AwaitingReview", published=10, url="pr/4", cost=1.0),
        run("e", phase="Failed", completed=5, reason=c.MODEL_ERROR, cost=1.0),
        run("f", phase="Failed", created=3000, completed=2990, reason=c.TIMEOUT),
    ]
    (row,) = fleet([agent("fixer")], runs, NOW, timedelta(days=7))
    assert (row.runs, row.awaiting_review, row.failed, row.merged, row.decided) == (7, 1, 2, 2, 3)
    assert row.acceptance_rate == 2 / 3
    assert row.median_review_seconds == 40 * 60
    assert row.cost_usd == 6.0
    assert row.cost_per_accepted_usd == 3.0
    assert row.revisions_per_accepted == 0.5
    assert row.last_failure_reason == c.MODEL_ERROR


def test_every_agent_has_a_row_and_runs_of_unseen_agents_keep_their_spend() -> None:
    runs = [
        run("old", phase="Succeeded", created=60 * 24 * 30, state="merged", url="pr/9", cost=9.0),
        run("ghost", agent_name="deleted", phase="Failed", completed=1, cost=0.25, reason=c.POD_LOST),
    ]
    rows = fleet([agent("fixer", suspend=True), agent("idle")], runs, NOW, timedelta(days=7))
    assert [(row.agent, row.runs, row.cost_usd, row.suspended) for row in rows] == [
        ("deleted", 1, 0.25, False),
        ("fixer", 0, 0.0, True),
        ("idle", 0, 0.0, False),
    ]
    idle = rows[2]
    assert (idle.acceptance_rate, idle.cost_per_accepted_usd, idle.median_review_seconds) == (None, None, None)


def test_overview_document_is_plain_json_with_camel_case_keys_and_rfc3339_times() -> None:
    runs = [run("a", phase="AwaitingReview", published=30, url="pr/1", cost=0.1234567)]
    meshes = [mesh("m", [{"type": c.STALLED, "status": "True", "reason": c.INVALID_GRAPH}])]
    document = overview_document(overview([agent("fixer")], meshes, runs, NOW, Thresholds()))
    assert document["time"] == "2026-11-24T12:00:00Z"
    assert document["thresholds"]["reviewOverdueSeconds"] == 86400
    (item,) = document["reviewQueue"]
    assert item["waitingSince"] == at(30)
    assert (item["costUSD"], item["prUrl"], item["ageSeconds"]) == (0.123457, "pr/1", 1800.0)
    assert document["attention"][0]["problem"] == "MeshStalled"
    assert document["fleet"][0]["costPerAcceptedUSD"] is None
