"""The one reconcile guard and the run controller's plan-apply pair, on the in-memory Kube."""

from __future__ import annotations

from typing import Any

import kopf
import pytest

from atomesh.api import conditions as c
from atomesh.controller.agentrun import reconcile_run
from atomesh.controller.context import OperatorContext
from atomesh.controller.reconciler import guarded
from atomesh.core.config import OperatorConfig
from atomesh.core.requeue import DEFAULT_RETRY, RetryPolicy, Stalled, Transient, Waiting
from atomesh.forge.errors import GitError
from atomesh.kube.client import KubeError
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, CONFIGMAPS, PODS


def context() -> OperatorContext:
    return OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=FakeKube())


def fails_with(error: Exception) -> Any:
    def step() -> None:
        raise error

    return step


def test_the_retry_policy_doubles_up_to_its_maximum() -> None:
    assert [DEFAULT_RETRY.delay(n) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert RetryPolicy(initial=60, factor=1, maximum=60).delay(9) == 60


def test_waiting_is_looked_at_again_after_its_delay_and_is_no_error() -> None:
    ctx = context()
    with pytest.raises(kopf.TemporaryError) as raised:
        guarded(ctx, "agentrun", "ns/run", fails_with(Waiting("Agent 'x' is not Ready", 10.0)), retry=3)
    assert raised.value.delay == 10.0
    assert ctx.metrics.reconcile_errors == {}


@pytest.mark.parametrize(
    "error",
    [Transient("resolving failed"), KubeError(503, "ServiceUnavailable", "down"), GitError("clone", "fatal: x")],
)
def test_transient_failures_and_the_ports_errors_back_off(error: Exception) -> None:
    ctx = context()
    with pytest.raises(kopf.TemporaryError) as raised:
        guarded(ctx, "mesh", "ns/m", fails_with(error), retry=2)
    assert raised.value.delay == 20.0
    assert ctx.metrics.reconcile_errors == {"mesh": 1}


def test_stalled_is_counted_and_not_retried() -> None:
    ctx = context()
    guarded(ctx, "agent", "ns/a", fails_with(Stalled("spec.harness.model: unknown")))
    assert ctx.metrics.reconcile_errors == {"agent": 1}


def test_handlers_kopf_does_not_retry_count_and_log_instead_of_raising() -> None:
    ctx = context()
    guarded(ctx, "review", "ns/r", fails_with(KubeError(0, "Unreachable", "refused")), retried=False)
    guarded(ctx, "review", "ns/r", fails_with(Waiting("later", 1.0)), retried=False)
    assert ctx.metrics.reconcile_errors == {"review": 1}


def test_bugs_are_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        guarded(context(), "agent", "ns/a", fails_with(ZeroDivisionError()))


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
    assert [verb for verb, plural, _ in kube.writes if plural in ("pods", "configmaps")] == ["create", "create"]
    pods, configmaps = kube.list(PODS, "team"), kube.list(CONFIGMAPS, "team")
    assert [pod["metadata"]["name"] for pod in pods] == [status["podName"]]
    assert len(configmaps) == 1
    assert pods[0]["metadata"]["ownerReferences"][0]["name"] == "tidy-1"


def test_an_agent_whose_workspace_branch_is_missing_is_not_ready_and_retried() -> None:
    from atomesh.controller.agent import reconcile_agent
    from atomesh.forge.fake import FakeForge

    ctx = context()
    forge = FakeForge()
    ctx.branch_head = forge.branch_head
    ctx.kube.create(AGENTS, AGENT)
    body = ctx.kube.get(AGENTS, "team", "tidy") or {}
    with pytest.raises(Transient, match=r"spec\.workspace"):
        reconcile_agent(ctx, body)
    ready = next(cond for cond in (ctx.kube.get(AGENTS, "team", "tidy") or {})["status"]["conditions"])
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "False", c.WORKSPACE_UNRESOLVABLE)
    assert "acme/site has no branch 'main'" in ready["message"]

    forge.set_head("acme/site", "main", "c0ffee")
    reconcile_agent(ctx, ctx.kube.get(AGENTS, "team", "tidy") or {})
    ready = next(cond for cond in (ctx.kube.get(AGENTS, "team", "tidy") or {})["status"]["conditions"])
    assert (ready["type"], ready["status"]) == ("Ready", "True")
