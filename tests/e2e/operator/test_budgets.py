"""Budgets end to end, on a clock 40 seconds before midnight UTC: an Agent with perDay $0.01 runs until
it is spent (the stand-in runner costs $0.01 a run); the next run waits Queued with BudgetExceeded and
starts once the day opens; a namespace Budget is accounted and printed by kubectl."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from atomesh.controller.main import OperatorThread
from atomesh.kube.client import RestKube
from tests.e2e.operator.conftest import Stack, agent_manifest, make_namespace, operator_config, run_manifest
from tests.fixtures.kube import RunningKubeAPI

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BEFORE_MIDNIGHT = timedelta(seconds=40)


class ShiftedClock:
    """Wall time moved so that the next UTC day begins `before` from now; it runs at real speed, so a
    run's Waiting until midnight comes back when the shifted clock reaches it."""

    def __init__(self, before: timedelta) -> None:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        self.start, self.t0 = midnight - before, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


@pytest.fixture
def budget_stack(cluster: RunningKubeAPI) -> Iterator[Stack]:
    make_namespace(cluster, "budgets")
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    try:
        yield Stack(cluster, kube, "budgets")
    finally:
        kube.close()


def test_a_spent_day_queues_the_next_run_until_the_day_opens(cluster: RunningKubeAPI, budget_stack: Stack) -> None:
    stack = budget_stack
    clock = ShiftedClock(BEFORE_MIDNIGHT)
    with OperatorThread(operator_config(), str(cluster.kubeconfig), all_namespaces=True, clock=clock):
        stack.apply(agent_manifest(budget={"perDay": {"usd": 0.01}}))
        stack.apply(
            {
                "apiVersion": "atomesh.io/v1alpha1",
                "kind": "Budget",
                "metadata": {"name": "team"},
                "spec": {"perMonth": {"usd": 100}},
            }
        )
        stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")
        stack.apply(run_manifest("r1", mode="publish"))
        first = stack.wait_phase("r1", {"AwaitingReview", "Failed"})
        assert (first["phase"], first["usage"]["costUSD"]) == ("AwaitingReview", 0.01)

        stack.apply(run_manifest("r2", mode="publish"))
        queued = stack.wait_phase("r2", {"Queued", "Pending", "Running", "AwaitingReview", "Failed"})
        assert (queued["phase"], queued["reason"]) == ("Queued", "BudgetExceeded")
        assert queued["message"].startswith("Agent/tidy perDay: $0.0100 of $0.01 spent; waiting until ")
        assert clock() < clock.start + BEFORE_MIDNIGHT, "the day ended before the run was queued: nothing tested"
        assert stack.pod("r2-runner") is None

        second = stack.wait_phase("r2", {"AwaitingReview", "Failed"}, timeout=BEFORE_MIDNIGHT.total_seconds() + 60)
        assert second["phase"] == "AwaitingReview"
        assert second["startTime"] >= (clock.start + BEFORE_MIDNIGHT).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert "BudgetExceeded" in stack.events("r2")

        def accounted() -> dict[str, object] | None:
            status = json.loads(stack.kubectl("get", "budget", "team", "-o", "json")).get("status") or {}
            return status if status.get("costThisMonthUSD") else None

        status = stack.wait_for("the Budget to count the month's spend", accounted, timeout=90)
        assert status["agents"] == ["tidy"]
        printed = stack.kubectl("get", "budgets")
        assert printed.split()[:7] == ["NAME", "READY", "EXCEEDED", "TODAY", "PER", "DAY", "MONTH"]
