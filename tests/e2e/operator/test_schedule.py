"""Scheduled runs on a fast clock: created on the cron times, no duplicates across an operator restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from atomesh.api import constants as k
from atomesh.controller.main import OperatorThread
from atomesh.core.schedule import parse_rfc3339, scheduled_run_name
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS
from tests.e2e.operator.conftest import Stack, agent_manifest, make_namespace, operator_config
from tests.fixtures.kube import RunningKubeAPI

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SPEED = 30.0  # one scheduled minute every two seconds


class FastClock:
    """Wall time shifted and sped up, shared by the operator before and after its restart."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed, self.t0 = start, speed, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)


@pytest.fixture
def schedule_stack(cluster: RunningKubeAPI) -> Iterator[Stack]:
    make_namespace(cluster, "scheduled")
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    try:
        yield Stack(cluster, kube, "scheduled")
    finally:
        kube.close()


def scheduled(stack: Stack) -> list[dict[str, object]]:
    return [run for run in stack.kube.list(AGENT_RUNS, stack.namespace) if run["spec"]["agentRef"]["name"] == "tidy"]


def test_schedule_survives_a_restart_without_duplicates(cluster: RunningKubeAPI, schedule_stack: Stack) -> None:
    stack = schedule_stack
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = FastClock(now + timedelta(minutes=10, seconds=-2), SPEED)  # the first due minute is near
    first_due = now + timedelta(minutes=10)
    stack.apply(
        agent_manifest(
            input={"schema": {"type": "object"}},
            triggers={"schedule": "* * * * *", "concurrencyPolicy": "Allow"},
        )
    )
    with OperatorThread(operator_config(), str(cluster.kubeconfig), all_namespaces=True, clock=clock):
        stack.wait_for("two scheduled runs", lambda: len(scheduled(stack)) >= 2, timeout=60)
    with OperatorThread(operator_config(), str(cluster.kubeconfig), all_namespaces=True, clock=clock):
        stack.wait_for("four scheduled runs", lambda: len(scheduled(stack)) >= 4, timeout=60)
        agent = stack.kubectl("get", "agent", "tidy", "-o", "jsonpath={.status.lastScheduleTime}")
    runs = scheduled(stack)
    times = [parse_rfc3339(run["metadata"]["annotations"][k.ANNOTATION_SCHEDULED_AT]) for run in runs]
    assert len(set(times)) == len(times), "two runs for one scheduled time"
    for run, when in zip(runs, times, strict=True):
        assert when is not None
        assert when >= first_due
        assert when.second == 0
        assert run["metadata"]["name"] == scheduled_run_name("tidy", when)
        assert run["metadata"]["labels"][k.LABEL_TRIGGER] == "schedule"
    assert parse_rfc3339(agent) == max(t for t in times if t is not None)
