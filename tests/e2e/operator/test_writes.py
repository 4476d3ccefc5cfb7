"""Writes per run lifecycle: what the operator writes to the API server for a run, from creation to
AwaitingReview, counted in the API server's audit records by the operator's own identity.

A count, not a timing: pod (1), one status per phase a user sees (Pending, Running, AwaitingReview),
the Event a user looks for (the outcome: the pull request opened) and the Agent's coalesced rollup."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from atomesh.controller.main import OperatorThread
from atomesh.devstack.kube.access import AuditRecord
from tests.e2e.operator.conftest import OPERATOR_USER, Stack, agent_manifest, run_manifest
from tests.fixtures.kube import SecuredKubeAPI

pytestmark = pytest.mark.e2e
RUNS = 4
MAX_WRITES_PER_RUN = 8


def operator_writes(cluster: SecuredKubeAPI, namespace: str) -> list[AuditRecord]:
    return cluster.access.writes(OPERATOR_USER, namespace)


def quiet(stack: Stack, cluster: SecuredKubeAPI, operator: OperatorThread, seconds: float = 1.5) -> int:
    """The operator's write count in the namespace once it stopped changing for `seconds`."""
    count, since = -1, time.monotonic()
    while True:
        operator.events.flush()
        now = len(operator_writes(cluster, stack.namespace))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return count
        time.sleep(0.2)


def test_a_run_lifecycle_takes_at_most_eight_operator_writes(
    stack: Stack, cluster: SecuredKubeAPI, operator: OperatorThread
) -> None:
    stack.apply(agent_manifest())
    stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")
    before = quiet(stack, cluster, operator)
    audited = len(cluster.access.audit)
    for index in range(RUNS):
        stack.apply(run_manifest(f"w{index}", mode="publish"))
    for index in range(RUNS):
        stack.wait_phase(f"w{index}", {"AwaitingReview"})
    quiet(stack, cluster, operator)
    writes = operator_writes(cluster, stack.namespace)[before:]
    kinds = Counter(f"{w.verb} {w.resource}{'/' + w.subresource if w.subresource else ''}" for w in writes)
    print(f"{len(writes) / RUNS:.2f} operator writes per run lifecycle: {dict(kinds)}")
    assert len(writes) / RUNS <= MAX_WRITES_PER_RUN, kinds
    assert kinds["create pods"] == RUNS
    assert kinds["patch agentruns/status"] <= 3 * RUNS  # Pending, Running, AwaitingReview: once each
    assert kinds["create events"] + kinds["patch events"] <= RUNS  # the outcome; the start is the status's news
    assert not kinds["create configmaps"]  # the run file travels in the pod's annotation
    reads = [
        f"{r.verb} {r.resource}"
        for r in list(cluster.access.audit)[audited:]
        if r.user == OPERATOR_USER and r.verb in ("get", "list") and r.namespace == stack.namespace
    ]
    assert not reads, f"a reconcile read the API server instead of its watch cache: {reads}"
