"""Every object gets an answer, once (Agents, AgentRuns, Meshes, Contexts and Budgets): an unexpected
reconcile error becomes a `Reconciling=True` condition with reason `ReconcileError` and one Warning
Event, its traceback is logged once, its retries back off, and the next success withdraws the answer
(on the in-memory Kube)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from atomesh.api import conditions as c
from atomesh.controller.apply import ErrorAnswers
from atomesh.controller.context import OperatorContext
from atomesh.controller.metrics import Metrics
from atomesh.controller.reconciler import Request, Workers
from atomesh.controller.registry import build_registry
from atomesh.controller.workqueue import WorkQueue
from atomesh.core.config import OperatorConfig
from atomesh.core.requeue import DEFAULT_RETRY
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, BUDGETS, CONFIGMAPS, CONTEXTS

RUN: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "AgentRun",
    "metadata": {"name": "tidy-1", "namespace": "team"},
    "spec": {"agentRef": {"name": "tidy"}},
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "reason": "Running"}]},
}
REQUEST = Request("thing", "team", "tidy-1")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Stack:
    """Workers with one controller, "thing", whose reconcile raises the next of `outcomes`."""

    def __init__(self, outcomes: list[Exception | None]) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.kube = FakeKube()
        self.kube.create(AGENT_RUNS, RUN)
        self.kube.patch_status(AGENT_RUNS, "team", "tidy-1", RUN["status"])
        self.ctx = OperatorContext(
            config=OperatorConfig(runner_image="runner:test"), kube=self.kube, post_event=self._post
        )
        self.clock = Clock()
        self.workers = Workers(Metrics(), WorkQueue(DEFAULT_RETRY, self.clock))
        self.outcomes = outcomes
        self.calls = 0

        def reconcile(namespace: str, name: str) -> None:
            self.calls += 1
            error = self.outcomes.pop(0)
            if error is not None:
                raise error

        self.workers.register("thing", reconcile)
        self.workers.answer_errors("thing", ErrorAnswers(self.ctx, AGENT_RUNS))

    def _post(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))

    def run_all(self) -> None:
        """Reconcile until every outcome was used: a failure's retry comes after its backoff; after
        a success the object is changed (enqueued) again."""
        while self.outcomes:
            if self.workers.queue.num_requeues(REQUEST) == 0:
                self.workers.enqueue("thing", "team", "tidy-1")
            assert self.workers.process_next(0)
            self.clock.now += self.workers.queue.backoff(REQUEST)

    def conditions(self) -> list[dict[str, Any]]:
        body = self.kube.get(AGENT_RUNS, "team", "tidy-1")
        assert body is not None
        return list(body["status"]["conditions"])


def test_an_unexpected_error_is_answered_once_and_retried_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    stack = Stack([KeyError("spec.input"), KeyError("spec.input"), KeyError("spec.input")])
    with caplog.at_level(logging.INFO):
        stack.run_all()
    assert stack.calls == 3
    assert stack.workers.queue.num_requeues(REQUEST) == 3  # the backoff grows per retry
    reconciling = [cond for cond in stack.conditions() if cond["type"] == c.RECONCILING]
    assert len(reconciling) == 1
    assert reconciling[0]["status"] == c.TRUE
    assert reconciling[0]["reason"] == c.RECONCILE_ERROR
    assert reconciling[0]["message"] == "reconcile failed: KeyError: 'spec.input'; retried with backoff"
    body = stack.kube.get(AGENT_RUNS, "team", "tidy-1") or {}
    assert reconciling[0]["observedGeneration"] == body["metadata"]["generation"]
    assert {"type": "Ready", "status": "False", "reason": "Running"} in stack.conditions()  # kept
    assert stack.events == [("Warning", c.RECONCILE_ERROR, reconciling[0]["message"])]
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert len(tracebacks) == 1
    assert sum("failed again" in record.getMessage() for record in caplog.records) == 2
    assert stack.workers.metrics.reconcile_errors == {"thing": 3}


def test_a_different_error_is_answered_again(caplog: pytest.LogCaptureFixture) -> None:
    stack = Stack([KeyError("a"), KeyError("a"), ValueError("b")])
    with caplog.at_level(logging.INFO):
        stack.run_all()
    assert [event[2] for event in stack.events] == [
        "reconcile failed: KeyError: 'a'; retried with backoff",
        "reconcile failed: ValueError: b; retried with backoff",
    ]
    assert len([record for record in caplog.records if record.exc_info]) == 2
    assert [cond["message"] for cond in stack.conditions() if cond["type"] == c.RECONCILING] == [
        "reconcile failed: ValueError: b; retried with backoff"
    ]


def test_the_next_success_withdraws_the_answer_and_forgets_the_error(caplog: pytest.LogCaptureFixture) -> None:
    stack = Stack([KeyError("a"), None, KeyError("a")])
    with caplog.at_level(logging.INFO):
        stack.run_all()
    # answered, withdrawn after the success, and the same error later is news again
    assert len(stack.events) == 2
    assert len([record for record in caplog.records if record.exc_info]) == 2
    stack.outcomes.append(None)
    stack.run_all()
    assert all(cond["reason"] != c.RECONCILE_ERROR for cond in stack.conditions())
    assert stack.workers.queue.num_requeues(REQUEST) == 0


def test_credentials_in_the_error_are_masked_and_long_errors_bounded() -> None:
    stack = Stack([RuntimeError("clone https://x-access-token:ghs_secret@forge/acme/site failed " + "x" * 2000)])
    stack.run_all()
    message = stack.events[0][2]
    assert "ghs_secret" not in message
    assert "https://***@forge/acme/site" in message
    assert len(message) < 600


def test_an_object_already_gone_is_not_answered() -> None:
    stack = Stack([KeyError("a")])
    stack.kube.delete(AGENT_RUNS, "team", "tidy-1")
    stack.run_all()
    assert stack.events == []
    assert stack.workers.queue.num_requeues(REQUEST) == 1


class UnreachableOnce(FakeKube):
    """The in-memory Kube whose first read fails, as an API server briefly unreachable would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def get(self, resource: Any, namespace: str, name: str) -> Any:
        if self.failures:
            self.failures -= 1
            raise OSError("API server unreachable")
        return super().get(resource, namespace, name)


def test_an_answer_that_failed_is_given_on_a_later_retry_without_a_second_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stack = Stack([KeyError("a"), KeyError("a"), KeyError("a")])
    kube = UnreachableOnce()
    kube.objects = stack.kube.objects
    stack.kube = stack.ctx.kube = kube
    with caplog.at_level(logging.INFO):
        stack.run_all()
    assert kube.failures == 0
    assert len(stack.events) == 1
    assert len([record for record in caplog.records if record.exc_info]) == 1


class BrokenReads(FakeKube):
    """The in-memory Kube whose ConfigMap reads and AgentRun lists fail unexpectedly."""

    def get(self, resource: Any, namespace: str, name: str) -> Any:
        if resource is CONFIGMAPS:
            raise RuntimeError("configmaps read failed")
        return super().get(resource, namespace, name)

    def list(self, resource: Any, namespace: str | None = None, *args: Any, **kwargs: Any) -> Any:
        if resource is AGENT_RUNS:
            raise RuntimeError("agentruns list failed")
        return super().list(resource, namespace, *args, **kwargs)


CONTEXT: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "Context",
    "metadata": {"name": "handbook", "namespace": "team"},
    "spec": {"configMap": {"name": "handbook-v1"}},
}
BUDGET: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "Budget",
    "metadata": {"name": "team-budget", "namespace": "team"},
    "spec": {"perDay": {"usd": 10}},
}


@pytest.mark.parametrize(
    ("controller", "resource", "manifest", "error"),
    [
        ("context", CONTEXTS, CONTEXT, "RuntimeError: configmaps read failed"),
        ("budget", BUDGETS, BUDGET, "RuntimeError: agentruns list failed"),
    ],
)
def test_contexts_and_budgets_get_the_answer_too(
    controller: str, resource: Any, manifest: dict[str, Any], error: str
) -> None:
    """Wired as the operator wires them: their unexpected errors are answered on the object, once."""
    events: list[tuple[str, str, str]] = []
    kube = BrokenReads()
    ctx = OperatorContext(
        config=OperatorConfig(runner_image="runner:test"),
        kube=kube,
        post_event=lambda body, type_, reason, message: events.append((type_, reason, message)),
    )
    build_registry(ctx, kubeconfig=None, endpoint=None)
    kube.create(resource, manifest)
    name = manifest["metadata"]["name"]
    for _ in range(2):
        ctx.workers.enqueue(controller, "team", name)
        assert ctx.workers.process_next(0)
    body = kube.get(resource, "team", name) or {}
    (reconciling,) = [cond for cond in body["status"]["conditions"] if cond["type"] == c.RECONCILING]
    assert (reconciling["status"], reconciling["reason"]) == (c.TRUE, c.RECONCILE_ERROR)
    assert reconciling["message"] == f"reconcile failed: {error}; retried with backoff"
    assert events == [("Warning", c.RECONCILE_ERROR, reconciling["message"])]
