"""The `build` step in the runner pod: present only for an Agent declaring a site build, between `agent`
and `publish`, and holding no credential; the run's phase follows it like any other step."""

from __future__ import annotations

import json
from typing import Any

from core_builders import run, snapshot

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import AgentRunStatus
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import build_runner_pod, runner_steps
from atomesh.core.runphase import observe_pod, plan_from_pod

CONFIG = OperatorConfig(runner_image="ghcr.io/atomesh/atomesh:test", forge_api_url="https://forge.example/api/v3")
PAGES = {"routes": ["index.html"], "root": "site", "build": {"run": "npm ci && npm run build", "outputDir": "dist"}}
NOW = "2026-01-01T00:01:00Z"
RUNNING = AgentRunStatus(phase="Running", pod_name="tidy-1-runner", start_time="2026-01-01T00:00:00Z")


def _pod(**review: Any) -> dict[str, Any]:
    return build_runner_pod(run(), snapshot(output={"artifact": "visual", "paths": ["site/**"]}, review=review), CONFIG)


def test_the_build_step_runs_only_when_the_agent_declares_a_build() -> None:
    plain = _pod(pages={"routes": ["index.html"]})
    assert [c["name"] for c in plain["spec"]["initContainers"]] == ["checkout", "model-proxy", "agent"]
    built = _pod(pages=PAGES)
    assert [c["name"] for c in built["spec"]["initContainers"]] == ["checkout", "model-proxy", "agent", "build"]
    assert [c["name"] for c in built["spec"]["containers"]] == ["publish"]
    assert runner_steps(snapshot().spec) == ("checkout", "agent", "publish")
    assert runner_steps(snapshot(review={"pages": PAGES}).spec) == ("checkout", "agent", "build", "publish")


def test_the_build_step_holds_no_secret_no_proxy_volume_and_no_service_account_token() -> None:
    pod = _pod(pages=PAGES)
    build = next(c for c in pod["spec"]["initContainers"] if c["name"] == k.RUNNER_CONTAINER_BUILD)
    assert build["args"] == ["runner", "build"]
    assert all("valueFrom" not in entry for entry in build["env"])  # no secretKeyRef of any kind
    names = {entry["name"] for entry in build["env"]}
    assert not names & {k.ENV_FORGE_TOKEN, k.ENV_MODEL_API_KEY, k.ENV_MODEL_PROXY_DIR, k.ENV_FORGE_API_URL}
    assert {m["name"] for m in build["volumeMounts"]} == {"work", "run"}
    assert pod["spec"]["automountServiceAccountToken"] is False
    security = build["securityContext"]
    assert (security["runAsNonRoot"], security["allowPrivilegeEscalation"], security["capabilities"]) == (
        True,
        False,
        {"drop": ["ALL"]},
    )
    assert build["image"] == next(c for c in pod["spec"]["containers"])["image"]


def test_a_service_account_token_asked_for_the_agent_never_reaches_the_build() -> None:
    spec = snapshot(
        output={"artifact": "visual", "paths": ["site/**"]},
        review={"pages": PAGES},
        runner={"serviceAccountName": "site-agent", "automountServiceAccountToken": True},
    )
    pod = build_runner_pod(run(), spec, CONFIG)
    mounts = {c["name"]: {m["name"] for m in c["volumeMounts"]} for c in pod["spec"]["initContainers"]}
    token_volumes = {v["name"] for v in pod["spec"]["volumes"] if "projected" in v}
    assert token_volumes
    assert token_volumes <= mounts["agent"]
    assert not token_volumes & mounts["build"]


def _statuses(pod: dict[str, Any], phase: str, states: list[dict[str, Any]], reason: str = "") -> dict[str, Any]:
    init = [c["name"] for c in pod["spec"]["initContainers"] if c["name"] != k.RUNNER_CONTAINER_MODEL_PROXY]
    entries = [{"name": n, "state": s} for n, s in zip([*init, "publish"], states, strict=False)]
    main = [e for e in entries if e["name"] == "publish"]
    pod["status"] = {
        "phase": phase,
        "reason": reason,
        "initContainerStatuses": [e for e in entries if e["name"] != "publish"],
        "containerStatuses": main,
    }
    return pod


def _term(code: int, message: str = "") -> dict[str, Any]:
    return {"terminated": {"exitCode": code, "message": message}}


def test_a_running_build_and_a_deadline_during_it_are_reported_as_the_build_step() -> None:
    running = _statuses(_pod(pages=PAGES), "Pending", [_term(0), _term(0), {"running": {}}])
    observed = observe_pod(running)
    build = observed.step("build")
    assert build is not None
    assert build.state == "running"
    # one Running status for the whole phase: the step that runs is the pod's own status
    plan = plan_from_pod(RUNNING, cancel=False, pod=observed, now=NOW)
    assert plan.status.phase == "Running"
    late = _statuses(_pod(pages=PAGES), "Failed", [_term(0), _term(0), _term(137)], reason="DeadlineExceeded")
    failure = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(late), now=NOW).status.failure
    assert failure is not None
    assert (failure.reason, failure.step) == (c.TIMEOUT, "build")


def test_without_a_build_a_deadline_during_publish_is_still_publish() -> None:
    late = _statuses(
        _pod(pages={"routes": ["index.html"]}), "Failed", [_term(0), _term(0), _term(137)], "DeadlineExceeded"
    )
    failure = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(late), now=NOW).status.failure
    assert failure is not None
    assert failure.step == "publish"


def test_a_published_run_with_a_build_lists_the_build_among_its_steps() -> None:
    summary = {"outcome": "noChanges"}
    done = _statuses(_pod(pages=PAGES), "Succeeded", [_term(0), _term(0), _term(0), _term(0, json.dumps(summary))])
    for entry in done["status"]["initContainerStatuses"] + done["status"]["containerStatuses"]:
        entry["state"]["terminated"] |= {"startedAt": "2026-01-01T00:00:01Z", "finishedAt": "2026-01-01T00:00:02Z"}
    status = plan_from_pod(RUNNING, cancel=False, pod=observe_pod(done), now=NOW).status
    assert [step.name for step in status.steps] == ["checkout", "agent", "build", "publish"]
