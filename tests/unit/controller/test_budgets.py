"""Budgets' plan-apply pairs on FakeKube: a run over its Agent's perDay waits Queued with
BudgetExceeded until the clock reaches the next day, then starts; a namespace Budget caps two Agents
together and its status, Events and cost-per-accepted-artifact metric match a hand computation; a
raised budget releases the queued run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import kopf
import pytest
from controller_fakes import NAMESPACE, NOW, READY, Events, agent_manifest, operator_context

from atomesh.api import conditions as c
from atomesh.controller import agent, agentrun, budgets
from atomesh.controller.agent import refresh_rollup
from atomesh.controller.agentrun import reconcile_run
from atomesh.controller.budgets import reconcile_budget, release_queued
from atomesh.controller.context import OperatorContext
from atomesh.core.requeue import Waiting
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, BUDGETS, PODS


def finished_run(name: str, agent: str, cost: float, *, merged: int | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "phase": "Succeeded" if merged else "Failed",
        "startTime": "2026-11-24T09:00:00Z",
        "usage": {"inputTokens": 1000, "outputTokens": 100, "costUSD": cost},
    }
    if merged is not None:
        status["review"] = {"repo": "acme/app", "number": merged, "state": "merged"}
    return {"metadata": {"name": name, "namespace": NAMESPACE}, "spec": {"agentRef": {"name": agent}}, "status": status}


def new_run(name: str, agent: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": NAMESPACE}, "spec": {"agentRef": {"name": agent}}}


def store(kube: FakeKube, body: dict[str, Any]) -> None:
    """A run as the API server has it after its earlier reconciles (status included)."""
    status = body.pop("status", None)
    kube.create(AGENT_RUNS, body)
    if status is not None:
        kube.patch_status(AGENT_RUNS, NAMESPACE, body["metadata"]["name"], status)


def ready_agent(kube: FakeKube, name: str, labels: dict[str, str] | None = None, **spec: Any) -> None:
    manifest = agent_manifest(name, **spec)
    manifest["metadata"]["labels"] = labels or {}
    kube.create(AGENTS, manifest)
    kube.patch_status(AGENTS, NAMESPACE, name, READY)


def wired() -> tuple[OperatorContext, FakeKube, Events]:
    events = Events()
    ctx, kube = operator_context(events)
    registry = kopf.OperatorRegistry()
    for controller in (agent, agentrun, budgets):
        controller.register(registry, ctx)
    return ctx, kube, events


def phase(kube: FakeKube, name: str) -> tuple[str, str]:
    status = (kube.get(AGENT_RUNS, NAMESPACE, name) or {}).get("status") or {}
    return status.get("phase", ""), status.get("reason", "")


def test_a_run_over_its_agents_per_day_waits_queued_and_starts_when_the_day_opens() -> None:
    ctx, kube, events = wired()
    ready_agent(kube, "writer", budget={"perDay": {"usd": 0.05}})
    store(kube, finished_run("writer-1", "writer", 0.05))
    store(kube, new_run("writer-2", "writer"))

    with pytest.raises(Waiting) as waiting:
        reconcile_run(ctx, NAMESPACE, "writer-2")
    assert waiting.value.after == 12 * 3600  # NOW is 12:00 UTC: the next day opens in 12 hours
    assert phase(kube, "writer-2") == ("Queued", c.BUDGET_EXCEEDED_REASON)
    message = (kube.get(AGENT_RUNS, NAMESPACE, "writer-2") or {})["status"]["message"]
    assert message == "Agent/writer perDay: $0.0500 of $0.05 spent; waiting until 2026-11-25T00:00:00Z"
    assert kube.list(PODS, NAMESPACE) == []
    assert events.reasons() == [c.BUDGET_EXCEEDED_REASON]

    ctx.clock = lambda: NOW + timedelta(hours=12)  # the work queue brings it back at the window's start
    reconcile_run(ctx, NAMESPACE, "writer-2")
    assert phase(kube, "writer-2") == ("Pending", c.POD_CREATED)
    assert len(kube.list(PODS, NAMESPACE)) == 1

    refresh_rollup(ctx, NAMESPACE, "writer")  # the Agent shows its window's spend
    day = (kube.get(AGENTS, NAMESPACE, "writer") or {})["status"]["budget"]
    assert [(w["window"], w["start"], w["costUSD"], w["limitUSD"], w["runs"]) for w in day] == [
        ("day", "2026-11-25T00:00:00Z", 0.0, 0.05, 1)
    ]


def test_raising_the_agents_budget_releases_the_queued_run() -> None:
    ctx, kube, _ = wired()
    ready_agent(kube, "writer", budget={"perDay": {"usd": 0.05}})
    store(kube, finished_run("writer-1", "writer", 0.05))
    store(kube, new_run("writer-2", "writer"))
    with pytest.raises(Waiting):
        reconcile_run(ctx, NAMESPACE, "writer-2")

    kube.patch(AGENTS, NAMESPACE, "writer", {"spec": {"budget": {"perDay": {"usd": 0.10}}}})
    reconciled = [{**READY["conditions"][0], "observedGeneration": 2}]
    kube.patch_status(AGENTS, NAMESPACE, "writer", {"conditions": reconciled})  # as the Agent's reconcile does
    release_queued(ctx, NAMESPACE)  # what a change of spec.budget enqueues
    assert ctx.workers.process_next(timeout=1.0)
    assert phase(kube, "writer-2") == ("Pending", c.POD_CREATED)


def test_a_namespace_budget_caps_two_agents_together_and_reports_cost_per_accepted_artifact() -> None:
    ctx, kube, events = wired()
    ready_agent(kube, "docs", {"team": "web"})
    ready_agent(kube, "site", {"team": "web"})
    ready_agent(kube, "ops", {"team": "ops"})
    budget = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Budget",
        "metadata": {"name": "web", "namespace": NAMESPACE},
        "spec": {"selector": {"matchLabels": {"team": "web"}}, "perDay": {"usd": 0.30}},
    }
    kube.create(BUDGETS, budget)
    store(kube, finished_run("docs-1", "docs", 0.12, merged=1))
    store(kube, finished_run("docs-2", "docs", 0.06))  # failed: costs, accepts nothing
    store(kube, finished_run("site-1", "site", 0.12, merged=2))
    store(kube, finished_run("ops-1", "ops", 5.00))  # not selected: does not count
    store(kube, new_run("site-2", "site"))
    store(kube, new_run("ops-2", "ops"))

    with pytest.raises(Waiting):
        reconcile_run(ctx, NAMESPACE, "site-2")
    assert phase(kube, "site-2") == ("Queued", c.BUDGET_EXCEEDED_REASON)
    assert "Budget/web perDay: $0.3000 of $0.3 spent" in kube.get(AGENT_RUNS, NAMESPACE, "site-2")["status"]["message"]  # type: ignore[index]
    reconcile_run(ctx, NAMESPACE, "ops-2")
    assert phase(kube, "ops-2") == ("Pending", c.POD_CREATED)

    with pytest.raises(Waiting):
        reconcile_budget(ctx, NAMESPACE, "web")
    status = (kube.get(BUDGETS, NAMESPACE, "web") or {})["status"]
    assert (status["costTodayUSD"], status["agents"]) == (0.30, ["docs", "site"])
    assert [(e["type"], e["status"]) for e in status["conditions"]] == [
        ("Ready", "True"),
        (c.BUDGET_WARNING, "True"),
        (c.BUDGET_EXCEEDED, "True"),
    ]
    # By hand: docs spent 0.12 + 0.06 for one merged pull request; site 0.12 for one.
    assert status["artifactCosts"] == [
        {"agent": "docs", "costUSD": 0.18, "merged": 1, "costPerAcceptedUSD": 0.18},
        {"agent": "site", "costUSD": 0.12, "merged": 1, "costPerAcceptedUSD": 0.12},
    ]
    # The Agents' rollups put the same figures into their status and the metric.
    for name in ("docs", "site", "ops"):
        refresh_rollup(ctx, NAMESPACE, name)
    docs = (kube.get(AGENTS, NAMESPACE, "docs") or {})["status"]
    assert docs["artifactCost"] == {"costUSD": 0.18, "merged": 1, "costPerAcceptedUSD": 0.18}
    assert (kube.get(AGENTS, NAMESPACE, "ops") or {})["status"]["artifactCost"] == {"costUSD": 5.0, "merged": 0}
    metrics = ctx.metrics.render()
    assert 'atomesh_cost_per_accepted_artifact_usd{namespace="team",agent="docs"} 0.18' in metrics
    assert 'atomesh_cost_per_accepted_artifact_usd{namespace="team",agent="site"} 0.12' in metrics
    assert 'agent="ops"' not in metrics.split("atomesh_cost_per_accepted_artifact_usd gauge")[1]
    warnings = [(name, reason) for name, type_, reason, _ in events if type_ == "Warning"]
    assert warnings == [("web", c.BUDGET_WARNING_REASON), ("web", c.BUDGET_EXCEEDED_REASON)]

    writes = list(kube.writes)
    with pytest.raises(Waiting):
        reconcile_budget(ctx, NAMESPACE, "web")  # nothing changed: no write, no second Event
    assert kube.writes == writes
    assert len([e for e in events if e[1] == "Warning"]) == 2


def test_a_budget_with_an_unknown_time_zone_is_stalled_and_names_the_field() -> None:
    ctx, kube, _ = wired()
    kube.create(
        BUDGETS,
        {
            "metadata": {"name": "b", "namespace": NAMESPACE},
            "spec": {"timezone": "Europe/Atlantis", "perDay": {"usd": 1}},
        },
    )
    with pytest.raises(Exception, match=r"spec\.timezone: unknown time zone 'Europe/Atlantis'"):
        reconcile_budget(ctx, NAMESPACE, "b")
    ready = (kube.get(BUDGETS, NAMESPACE, "b") or {})["status"]["conditions"][0]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", c.INVALID_SPEC)
