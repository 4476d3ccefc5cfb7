"""AgentRuns end to end: kubectl apply → runner pod of the right shape → status walks its phases."""

from __future__ import annotations

import json

import pytest

from atomesh.api import constants as k
from atomesh.core.pod import RUN_FILE_ANNOTATION
from atomesh.kube.resources import CONFIGMAPS
from tests.e2e.operator.conftest import Stack, agent_manifest, run_manifest

pytestmark = pytest.mark.e2e


def ready_agent(stack: Stack, **spec: object) -> None:
    stack.apply(agent_manifest(**spec))
    stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")


def test_published_run_awaits_review(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r1", mode="publish"))
    status = stack.wait_phase("r1", {"AwaitingReview", "Failed"})
    assert (status["phase"], status["reason"]) == ("AwaitingReview", "AwaitingReview")
    assert status["review"]["number"] == 1
    assert status["artifact"]["branch"] == "atomesh/tidy/r1"
    assert status["usage"]["costUSD"] == 0.01
    assert status["agent"]["revision"].startswith("inline@")
    # Each step saw only the credentials DESIGN.md allows it; the model key only the proxy.
    seen = json.loads(status["message"])
    assert seen == {
        "checkout": ["ATOMESH_FORGE_TOKEN"],
        "model-proxy": ["ATOMESH_MODEL_API_KEY"],
        "agent": [],
        "publish": ["ATOMESH_FORGE_TOKEN"],
    }
    pod = stack.pod("r1-runner")
    assert pod is not None
    assert pod["metadata"]["labels"][k.LABEL_RUN] == "r1"
    assert pod["metadata"]["labels"][k.LABEL_AGENT] == "tidy"
    owner = pod["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("AgentRun", "r1", True)
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["checkout", "model-proxy", "agent"]

    def proxy_state() -> dict[str, object]:
        current = stack.pod("r1-runner") or {}
        statuses = (current.get("status") or {}).get("initContainerStatuses") or []
        return next((c["state"] for c in statuses if c["name"] == "model-proxy"), {})

    stack.wait_for("the sidecar stopped once publish ended", lambda: "terminated" in proxy_state())
    assert pod["spec"]["restartPolicy"] == "Never"
    # The start is the status's news; the outcome is an Event's.
    assert stack.events("r1") == ["AwaitingReview"]
    printed = stack.kubectl("get", "agentrun", "r1")
    assert "AwaitingReview" in printed
    assert "tidy" in printed

    def counters() -> dict[str, int]:
        return dict(json.loads(stack.kubectl("get", "agent", "tidy", "-o", "json"))["status"].get("runs") or {})

    stack.wait_for("the agent's run counters", lambda: counters().get("awaitingReview") == 1)


def test_no_changes_succeeds(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r2", mode="noChanges"))
    status = stack.wait_phase("r2", {"Succeeded", "Failed"})
    assert (status["phase"], status["reason"]) == ("Succeeded", "NoChanges")
    stack.kubectl("wait", "--for=condition=Ready", "agentrun/r2", "--timeout=10s")


def test_failed_step_reports_step_exit_code_and_message(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r3", mode="fail-agent"))
    status = stack.wait_phase("r3", {"Failed", "AwaitingReview", "Succeeded"})
    assert (status["phase"], status["reason"]) == ("Failed", "StepFailed")
    assert status["failure"]["step"] == "agent"
    assert status["failure"]["exitCode"] == 3
    assert "simulated failure" in status["failure"]["message"]
    assert {c["type"]: c["status"] for c in status["conditions"]}["Stalled"] == "True"


def test_timeout_fails_the_run(stack: Stack) -> None:
    ready_agent(stack, limits={"timeout": "2s"})
    stack.apply(run_manifest("r4", mode="sleep", seconds=60))
    status = stack.wait_phase("r4", {"Failed", "AwaitingReview", "Succeeded"})
    assert (status["phase"], status["reason"]) == ("Failed", "Timeout")
    assert status["failure"]["step"] == "agent"


def test_cancel_deletes_the_pod(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r5", mode="sleep", seconds=60))
    stack.wait_phase("r5", {"Running"})
    stack.kubectl("patch", "agentrun", "r5", "--type=merge", "-p", '{"spec":{"cancel":true}}')
    status = stack.wait_phase("r5", {"Cancelled", "Failed"})
    assert (status["phase"], status["reason"]) == ("Cancelled", "Cancelled")
    stack.wait_for("the runner pod to go", lambda: stack.pod("r5-runner") is None)


def test_invalid_input_fails_without_a_pod(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r6", mode=42))
    status = stack.wait_phase("r6", {"Failed", "Running", "AwaitingReview"})
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidInput")
    assert "spec.input.mode" in status["message"]
    assert stack.pod("r6-runner") is None
    assert "agent" not in status


def test_run_waits_for_its_agent(stack: Stack) -> None:
    stack.apply(run_manifest("r7", mode="publish"))
    stack.wait_for("AgentNotFound", lambda: (stack.run("r7").get("status") or {}).get("reason") == "AgentNotFound")
    assert stack.pod("r7-runner") is None
    ready_agent(stack)
    assert stack.wait_phase("r7", {"AwaitingReview", "Failed"}, timeout=60)["phase"] == "AwaitingReview"


def test_deleting_a_run_deletes_its_pod_which_carried_the_run_file(stack: Stack) -> None:
    ready_agent(stack)
    stack.apply(run_manifest("r8", mode="publish"))
    stack.wait_phase("r8", {"AwaitingReview"})
    assert stack.kube.get(CONFIGMAPS, stack.namespace, "r8-run") is None  # the steps read it from the pod
    pod = stack.pod("r8-runner") or {}
    assert json.loads(pod["metadata"]["annotations"][RUN_FILE_ANNOTATION])["run"] == "r8"
    stack.kubectl("delete", "agentrun", "r8", "--wait=true", "--timeout=30s")
    stack.wait_for("the pod to go", lambda: stack.pod("r8-runner") is None)


def test_invalid_agent_stalls_without_crashing(stack: Stack) -> None:
    stack.apply(agent_manifest(name="broken", triggers={"schedule": "every tuesday"}))
    stack.kubectl("wait", "--for=condition=Stalled", "agent/broken", "--timeout=30s")
    out = json.loads(stack.kubectl("get", "agent", "broken", "-o", "json"))
    ready = {c["type"]: c for c in out["status"]["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "spec.triggers.schedule" in ready["message"]
    ready_agent(stack)  # the operator keeps working
