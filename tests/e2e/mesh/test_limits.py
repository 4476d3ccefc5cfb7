"""Mesh limits with the real operator and the stand-in runner image (tests/e2e/operator): under 50
concurrent triggers maxActiveRuns queues runs rather than dropping them, maxCostUSDPerDay stops
new runs with BudgetExceeded, suspend holds them; an invalid graph is Stalled, naming the edge.

Each stand-in run publishes at once ($0.01) and ends AwaitingReview, which frees its slot."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from atomesh.kube.resources import AGENT_RUNS
from tests.e2e.mesh.conftest import mesh_manifest, root_run
from tests.e2e.operator.conftest import Stack, agent_manifest, kube_api
from tests.fixtures.kube import SecuredKubeAPI

__all__ = ["kube_api"]  # the operator suite's API server, with authentication and RBAC
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("operator")]
TRIGGERS = 50
STARTED = ("Pending", "Running")


class RunWatch:
    """The most runs of the namespace ever started (pod created) and not yet past Running at once,
    computed from the API server's own watch stream of AgentRuns, event by event."""

    def __init__(self, cluster: SecuredKubeAPI, namespace: str) -> None:
        self._cluster = cluster
        self._path = f"/apis/atomesh.io/v1alpha1/namespaces/{namespace}/agentruns?watch=true"
        self.states: dict[str, tuple[str, bool]] = {}
        self.most_active = 0
        self.started: set[str] = set()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with contextlib.suppress(OSError, ValueError), self._cluster.open(self._path) as response:
            for line in response:
                obj = json.loads(line)["object"]
                status = obj.get("status") or {}
                name = obj["metadata"]["name"]
                self.states[name] = (status.get("phase") or "Pending", bool(status.get("podName")))
                if status.get("podName"):
                    self.started.add(name)
                active = sum(1 for phase, pod in self.states.values() if pod and phase in STARTED)
                self.most_active = max(self.most_active, active)

    def __enter__(self) -> RunWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        return None  # the reader ends with the API server's stream at the end of the module


def trigger(stack: Stack, mesh: str, count: int) -> list[str]:
    """`count` root runs created at once from several threads."""
    names = [f"{mesh}-{index:02d}" for index in range(count)]

    def create(name: str) -> None:
        body = root_run(name, mesh, "tidy", mode="publish")
        body["metadata"]["namespace"] = stack.namespace
        stack.kube.create(AGENT_RUNS, body)

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(create, names))
    return names


def phases(stack: Stack) -> dict[str, dict[str, Any]]:
    return {run["metadata"]["name"]: run.get("status") or {} for run in stack.kube.list(AGENT_RUNS, stack.namespace)}


def mesh_status(stack: Stack, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(stack.kubectl("get", "mesh", name, "-o", "json")).get("status") or {}
    return found


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


def test_max_active_runs_queues_fifty_concurrent_triggers(stack: Stack) -> None:
    stack.apply(agent_manifest())
    stack.apply(mesh_manifest("burst", {"job": "tidy"}, [], limits={"maxActiveRuns": 3}))
    stack.kubectl("wait", "--for=condition=Ready", "mesh/burst", "--timeout=60s")
    with RunWatch(stack.kube_api, stack.namespace) as watch:
        names = trigger(stack, "burst", TRIGGERS)

        def all_published() -> bool:
            seen = phases(stack)
            return len(seen) == TRIGGERS and all(status.get("phase") == "AwaitingReview" for status in seen.values())

        stack.wait_for("all 50 runs to be published", all_published, timeout=240)
    assert watch.most_active <= 3
    assert watch.started == set(names)
    runs = {run["metadata"]["name"]: run for run in stack.kube.list(AGENT_RUNS, stack.namespace)}
    executions = {run["metadata"]["labels"]["atomesh.io/mesh-execution"] for run in runs.values()}
    assert len(executions) == TRIGGERS
    assert not any("atomesh.io/queued" in run["metadata"].get("annotations", {}) for run in runs.values())
    status = stack.wait_for("the rollup", lambda: (s := mesh_status(stack, "burst")).get("awaitingReview") == 50 and s)
    assert status["queuedRuns"] == 0
    assert status["costTodayUSD"] == pytest.approx(0.5)


def test_daily_budget_stops_new_runs(stack: Stack) -> None:
    stack.apply(agent_manifest())
    limits = {"maxActiveRuns": 2, "maxCostUSDPerDay": 0.05}
    stack.apply(mesh_manifest("budget", {"job": "tidy"}, [], limits=limits))
    stack.kubectl("wait", "--for=condition=Ready", "mesh/budget", "--timeout=60s")
    trigger(stack, "budget", TRIGGERS)

    def exceeded() -> dict[str, Any] | None:
        status = mesh_status(stack, "budget")
        if condition(status, "BudgetExceeded").get("status") != "True":
            return None
        seen = phases(stack).values()
        settled = all(
            s.get("phase") == "AwaitingReview" or "daily budget spent" in (s.get("message") or "") for s in seen
        )
        return status if settled and len(seen) == TRIGGERS else None

    status = stack.wait_for("the budget to be spent and every run settled", exceeded, timeout=120)
    seen = phases(stack)
    published = [name for name, s in seen.items() if s.get("phase") == "AwaitingReview"]
    queued = [s for s in seen.values() if s.get("reason") == "Queued"]
    # $0.01 a run: 5 runs spend the day's $0.05; at most maxActiveRuns more were already running.
    assert 5 <= len(published) <= 5 + 2
    assert len(published) + len(queued) == TRIGGERS
    assert all(s["phase"] == "Pending" and "daily budget spent" in s["message"] for s in queued)
    assert not any(s.get("podName") for s in queued)
    assert status["costTodayUSD"] >= 0.05
    assert status["queuedRuns"] == len(queued)
    assert "BudgetExceeded" in stack.events("budget")


def test_suspend_holds_new_runs_until_resumed(stack: Stack) -> None:
    stack.apply(agent_manifest())
    stack.apply(mesh_manifest("paused", {"job": "tidy"}, [], suspend=True))
    stack.apply(root_run("held", "paused", "tidy", mode="publish"))
    held = stack.wait_for(
        "the run to be held",
        lambda: (s := stack.run("held").get("status") or {}).get("message") == "mesh is suspended" and s,
    )
    assert (held["phase"], held["reason"]) == ("Pending", "Queued")
    assert stack.pod("held-runner") is None
    stack.kubectl("patch", "mesh", "paused", "--type=merge", "-p", '{"spec":{"suspend":false}}')
    assert stack.wait_phase("held", {"AwaitingReview"})["phase"] == "AwaitingReview"


def test_an_invalid_graph_is_stalled_naming_the_edge(stack: Stack) -> None:
    stack.apply(agent_manifest())
    mode = {"mode": "${upstream.input.mode}"}  # tidy requires it, and only edges give b its input
    edges = [{"from": "a", "to": "b", "input": mode}, {"from": "b", "to": "a", "input": mode}]
    stack.apply(mesh_manifest("loop", {"a": "tidy", "b": "tidy"}, edges))
    stalled = stack.wait_for("the mesh to be Stalled", lambda: condition(mesh_status(stack, "loop"), "Stalled") or None)
    assert stalled["status"] == "True"
    assert stalled["reason"] == "InvalidGraph"
    assert stalled["message"].startswith("spec.edges[1]: edges form a cycle: a -> b -> a"), stalled
    assert condition(mesh_status(stack, "loop"), "Ready")["status"] == "False"
    # Fixed, it becomes Ready and Stalled goes away.
    stack.apply(mesh_manifest("loop", {"a": "tidy", "b": "tidy"}, edges[:1]))
    stack.kubectl("wait", "--for=condition=Ready", "mesh/loop", "--timeout=60s")
    assert not condition(mesh_status(stack, "loop"), "Stalled")
