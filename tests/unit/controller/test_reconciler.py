"""The workers' one outcome mapping (error kind → requeue) and the Agent and AgentRun controllers'
plan-apply pairs, on the in-memory Kube."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.api import conditions as c
from atomesh.controller.agentrun import reconcile_run
from atomesh.controller.context import OperatorContext
from atomesh.controller.metrics import Metrics
from atomesh.controller.reconciler import Request, Workers
from atomesh.controller.workqueue import WorkQueue
from atomesh.core.config import OperatorConfig
from atomesh.core.requeue import DEFAULT_RETRY, RetryPolicy, Stalled, Transient, Waiting
from atomesh.forge.errors import GitError
from atomesh.kube.client import KubeError
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, CONFIGMAPS, MESHES, PODS


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def context() -> OperatorContext:
    return OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=FakeKube())


def workers_failing_with(error: Exception | None, clock: Clock) -> tuple[Workers, list[str]]:
    """Workers with one controller, "thing", whose reconcile raises `error` (None: succeeds)."""
    workers = Workers(Metrics(), WorkQueue(DEFAULT_RETRY, clock))
    calls: list[str] = []

    def reconcile(namespace: str, name: str) -> None:
        calls.append(f"{namespace}/{name}")
        if error is not None:
            raise error

    workers.register("thing", reconcile)
    workers.enqueue("thing", "ns", "a")
    assert workers.process_next(0)
    return workers, calls


REQUEST = Request("thing", "ns", "a")


def test_the_retry_policy_doubles_up_to_its_maximum() -> None:
    assert [DEFAULT_RETRY.delay(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert RetryPolicy(initial=60, factor=1, maximum=60).delay(9) == 60


def test_waiting_is_reconciled_again_after_its_delay_and_is_no_error() -> None:
    clock = Clock()
    workers, calls = workers_failing_with(Waiting("Agent 'x' is not Ready", 10.0), clock)
    clock.now += 9.9
    assert not workers.process_next(0)
    clock.now += 0.1
    assert workers.process_next(0)
    assert calls == ["ns/a", "ns/a"]
    assert workers.metrics.reconcile_errors == {}
    assert workers.queue.num_requeues(REQUEST) == 0


@pytest.mark.parametrize(
    "error",
    [Transient("resolving failed"), KubeError(503, "ServiceUnavailable", "down"), GitError("clone", "fatal: x")],
)
def test_transient_failures_and_the_ports_errors_back_off(error: Exception) -> None:
    clock = Clock()
    workers, _ = workers_failing_with(error, clock)
    assert workers.queue.num_requeues(REQUEST) == 1
    clock.now += 5
    assert workers.process_next(0)  # the first retry after 5 s; the next one waits 10 s
    clock.now += 9.9
    assert not workers.process_next(0)
    assert workers.queue.backoff(REQUEST) == 20
    assert workers.metrics.reconcile_errors == {"thing": 2}


def test_success_forgets_the_backoff() -> None:
    clock = Clock()
    outcomes: list[Exception | None] = [Transient("down"), None]
    workers = Workers(Metrics(), WorkQueue(DEFAULT_RETRY, clock))

    def reconcile(namespace: str, name: str) -> None:
        error = outcomes.pop(0)
        if error is not None:
            raise error

    workers.register("thing", reconcile)
    workers.enqueue("thing", "ns", "a")
    assert workers.process_next(0)
    assert workers.queue.num_requeues(REQUEST) == 1
    clock.now += 5
    assert workers.process_next(0)
    assert (outcomes, workers.queue.num_requeues(REQUEST)) == ([], 0)


def test_stalled_is_counted_and_not_requeued() -> None:
    clock = Clock()
    workers, calls = workers_failing_with(Stalled("spec.harness.model: unknown"), clock)
    clock.now += 3600
    assert not workers.process_next(0)
    assert calls == ["ns/a"]
    assert workers.metrics.reconcile_errors == {"thing": 1}


def test_a_bug_is_counted_and_backs_off_without_stopping_the_workers() -> None:
    clock = Clock()
    workers, _ = workers_failing_with(ZeroDivisionError(), clock)
    assert workers.metrics.reconcile_errors == {"thing": 1}
    assert workers.queue.num_requeues(REQUEST) == 1


def test_requests_for_unknown_controllers_are_refused() -> None:
    with pytest.raises(KeyError, match="no controller 'nothing'"):
        Workers(Metrics()).enqueue("nothing", "ns", "a")


AGENT: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "Agent",
    "metadata": {"name": "tidy", "namespace": "team"},
    "spec": {
        "purpose": "Tidy.",
        "instructions": "Tidy it.",
        "output": {"artifact": "doc", "paths": ["README.md"]},
        "workspace": {"repo": "acme/site"},
        "harness": {"model": "claude-sonnet-4-5"},
    },
}
READY: dict[str, Any] = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@0123456789ab",
    "specHash": "0123456789ab" * 5,
}
RUN: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "AgentRun",
    "metadata": {"name": "tidy-1", "namespace": "team"},
    "spec": {"agentRef": {"name": "tidy"}},
}


def test_a_run_waits_for_its_agent_then_starts_once() -> None:
    ctx = context()
    ctx.kube.create(AGENT_RUNS, RUN)
    with pytest.raises(Waiting, match="does not exist"):
        reconcile_run(ctx, "team", "tidy-1")
    status = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]
    assert (status["phase"], status["reason"]) == ("Pending", c.AGENT_NOT_FOUND)

    ctx.kube.create(AGENTS, AGENT)
    ctx.kube.patch_status(AGENTS, "team", "tidy", READY)
    reconcile_run(ctx, "team", "tidy-1")
    reconcile_run(ctx, "team", "tidy-1")  # again, as after a restart: nothing new
    status = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]
    assert (status["phase"], status["reason"]) == ("Pending", c.POD_CREATED)
    kube = ctx.kube
    assert isinstance(kube, FakeKube)
    assert [verb for verb, plural, _ in kube.writes if plural in ("pods", "configmaps")] == ["create"]
    pods, configmaps = kube.list(PODS, "team"), kube.list(CONFIGMAPS, "team")
    assert [pod["metadata"]["name"] for pod in pods] == [status["podName"]]
    assert configmaps == []  # the run file travels in the pod
    assert pods[0]["metadata"]["ownerReferences"][0]["name"] == "tidy-1"


def test_an_agent_whose_workspace_branch_is_missing_is_not_ready_and_retried() -> None:
    from atomesh.controller.agent import reconcile_agent
    from atomesh.forge.fake import FakeForge

    ctx = context()
    forge = FakeForge()
    ctx.branch_head = forge.branch_head
    ctx.kube.create(AGENTS, AGENT)
    with pytest.raises(Transient, match=r"spec\.workspace"):
        reconcile_agent(ctx, "team", "tidy")
    ready = next(cond for cond in (ctx.kube.get(AGENTS, "team", "tidy") or {})["status"]["conditions"])
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", c.WORKSPACE_UNRESOLVABLE)
    assert "acme/site has no branch 'main'" in ready["message"]

    forge.set_head("acme/site", "main", "c0ffee")
    reconcile_agent(ctx, "team", "tidy")
    ready = next(cond for cond in (ctx.kube.get(AGENTS, "team", "tidy") or {})["status"]["conditions"])
    assert (ready["type"], ready["status"]) == ("Ready", "True")


def test_a_cancelled_run_loses_its_pod_and_asks_for_its_agents_follow_ups() -> None:
    ctx = context()
    events: list[tuple[str, str]] = []
    ctx.post_event = lambda body, type_, reason, message: events.append((type_, reason))
    for controller in ("agent-rollup", "agent-prune"):
        ctx.workers.register(controller, lambda namespace, name: None)
    ctx.kube.create(AGENTS, AGENT)
    ctx.kube.patch_status(AGENTS, "team", "tidy", READY)
    ctx.kube.create(AGENT_RUNS, RUN)
    reconcile_run(ctx, "team", "tidy-1")
    pod = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]["podName"]
    assert events == []  # the start is the status's news, not an Event's

    ctx.kube.patch(AGENT_RUNS, "team", "tidy-1", {"spec": {"cancel": True}})
    reconcile_run(ctx, "team", "tidy-1")
    reconcile_run(ctx, "team", "tidy-1")  # finished: nothing more
    status = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]
    assert (status["phase"], status["reason"]) == ("Cancelled", c.CANCELLED)
    assert ctx.kube.get(PODS, "team", pod) is None
    assert events == [("Normal", c.CANCELLED)]
    ctx.workers.queue.shut_down()  # hands out the follow-ups waiting on their delay
    follow_ups = {ctx.workers.queue.get(), ctx.workers.queue.get(), ctx.workers.queue.get()}
    assert follow_ups == {Request("agent-rollup", "team", "tidy"), Request("agent-prune", "team", "tidy"), None}


def test_a_run_whose_spec_does_not_validate_fails_once_with_invalid_spec() -> None:
    ctx = context()
    ctx.kube.create(AGENT_RUNS, {**RUN, "spec": {"agentRef": {}}})
    reconcile_run(ctx, "team", "tidy-1")
    reconcile_run(ctx, "team", "tidy-1")
    status = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]
    assert (status["phase"], status["reason"]) == ("Failed", c.INVALID_SPEC)
    kube = ctx.kube
    assert isinstance(kube, FakeKube)
    assert [verb for verb, plural, _ in kube.writes if plural == "agentruns"] == ["create", "status"]


def test_workers_reconcile_only_the_namespaces_this_replica_owns() -> None:
    """Sharding: a request of another replica's namespace is not queued, and one queued before its
    shard went elsewhere is dropped when it comes up."""
    workers = Workers(Metrics(), WorkQueue(DEFAULT_RETRY, Clock()))
    calls: list[str] = []
    workers.register("thing", lambda namespace, name: calls.append(f"{namespace}/{name}"))
    owned = {"mine", "moving"}
    workers.owns = lambda namespace: namespace in owned
    for namespace in ("mine", "theirs", "moving"):
        workers.enqueue("thing", namespace, "a")
    owned.discard("moving")
    while workers.process_next(0):
        pass
    assert calls == ["mine/a"]


def test_a_mesh_node_without_memory_runs_with_the_memory_its_mesh_shares() -> None:
    ctx = context()
    ctx.kube.create(AGENTS, AGENT)
    ctx.kube.patch_status(AGENTS, "team", "tidy", READY)
    mesh = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Mesh",
        "metadata": {"name": "docs", "namespace": "team"},
        "spec": {
            "agents": [{"name": "tidy", "agentRef": {"name": "tidy"}}],
            "memory": {"path": ".atomesh/memory/docs"},
        },
    }
    ctx.kube.create(MESHES, mesh)
    labels = {"atomesh.io/mesh": "docs", "atomesh.io/mesh-execution": "docs-1"}
    ctx.kube.create(AGENT_RUNS, {**RUN, "metadata": {**RUN["metadata"], "labels": labels}})
    ctx.kube.create(AGENT_RUNS, {**RUN, "metadata": {"name": "tidy-2", "namespace": "team"}})  # not in the mesh
    reconcile_run(ctx, "team", "tidy-1")
    reconcile_run(ctx, "team", "tidy-2")
    in_mesh = (ctx.kube.get(AGENT_RUNS, "team", "tidy-1") or {})["status"]["agent"]
    alone = (ctx.kube.get(AGENT_RUNS, "team", "tidy-2") or {})["status"]["agent"]
    assert in_mesh["spec"]["memory"]["path"] == ".atomesh/memory/docs"
    assert in_mesh["specHash"] == alone["specHash"]  # the Agent's revision is unchanged
    assert "memory" not in alone["spec"]
