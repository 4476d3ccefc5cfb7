"""A run's next phase from what its runner pod reports.

Pending → Running → AwaitingReview (publish opened a pull request) or Succeeded/NoChanges, or Paused
(the agent step stopped at a hard limit; publish kept the session and published nothing); one
status per phase: while Running the message does not follow the steps (the pod's container statuses
say which step runs), so the run is written once per phase a user can see;
a failed step → Failed with the reason the step named (`status.reason`, e.g. CheckoutFailed), the
step, exit code and message tail (and the usage a failed agent step reports); the pod's deadline →
Failed/Timeout; `spec.cancel` → Cancelled. A pod that vanished after it was created is never
recreated — a step may already have pushed or opened a pull request — the run fails PodLost.
AwaitingReview belongs to the review loop: nothing here moves a run out of it except cancel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agentrun import TERMINAL_PHASES, AgentRunStatus, Failure, Phase, ReviewStatus, StepTimes
from atomesh.api.runfile import PublishSummary, split_usage
from atomesh.core.conditions import condition, merge_conditions

MESSAGE_TAIL = 1024
DEADLINE_EXCEEDED = "DeadlineExceeded"


@dataclass(frozen=True)
class StepState:
    """One runner container: waiting, running or terminated (with exit code and message)."""

    name: str
    state: str
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    started_at: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True)
class PodObservation:
    """What the run needs from its pod."""

    name: str
    phase: str
    reason: str = ""
    message: str = ""
    steps: tuple[StepState, ...] = ()

    def step(self, name: str) -> StepState | None:
        return next((step for step in self.steps if step.name == name), None)


def _step_state(status: dict[str, Any]) -> StepState:
    state = status.get("state") or {}
    if "terminated" in state:
        term = state["terminated"] or {}
        return StepState(
            name=status.get("name", ""),
            state="terminated",
            exit_code=term.get("exitCode"),
            reason=term.get("reason") or "",
            message=term.get("message") or "",
            started_at=term.get("startedAt"),
            finished_at=term.get("finishedAt"),
        )
    if "running" in state:
        return StepState(
            name=status.get("name", ""), state="running", started_at=(state["running"] or {}).get("startedAt")
        )
    return StepState(name=status.get("name", ""), state="waiting")


def observe_pod(pod: dict[str, Any]) -> PodObservation:
    """Read a Pod manifest's status into the steps in runner order."""
    status = pod.get("status") or {}
    found = {
        entry.get("name"): _step_state(entry)
        for entry in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    }
    spec = pod.get("spec") or {}
    declared = {entry.get("name") for entry in (spec.get("initContainers") or []) + (spec.get("containers") or [])}
    # `build` is in the pods of Agents that declare a site build only; elsewhere it is no step of the run.
    names = [n for n in k.RUNNER_STEPS if n != k.RUNNER_CONTAINER_BUILD or n in declared or n in found]
    steps = tuple(found.get(name) or StepState(name=name, state="waiting") for name in names)
    return PodObservation(
        name=(pod.get("metadata") or {}).get("name", ""),
        phase=status.get("phase") or "Pending",
        reason=status.get("reason") or "",
        message=status.get("message") or "",
        steps=steps,
    )


def step_times(pod: PodObservation) -> list[StepTimes]:
    """The steps that started, in runner order, with their times (a step that never ran is left out)."""
    return [
        StepTimes(name=step.name, started_at=step.started_at, finished_at=step.finished_at, exit_code=step.exit_code)
        for step in pod.steps
        if step.started_at is not None
    ]


def tail(text: str, limit: int = MESSAGE_TAIL) -> str:
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


@dataclass(frozen=True)
class RunPlan:
    """The status to write and whether the pod must go."""

    status: AgentRunStatus
    delete_pod: bool = False


def _with(status: AgentRunStatus, **update: Any) -> AgentRunStatus:
    return status.model_copy(update=update)


def _failed(status: AgentRunStatus, reason: str, message: str, now: str, failure: Failure) -> AgentRunStatus:
    return _with(status, phase="Failed", reason=reason, message=message, failure=failure, completion_time=now)


def _from_summary(status: AgentRunStatus, publish: StepState, now: str) -> AgentRunStatus:
    try:
        summary = PublishSummary.model_validate(json.loads(publish.message))
    except (ValueError, ValidationError) as exc:
        message = f"publish exited 0 but its termination message is not a PublishSummary: {tail(str(exc), 300)}"
        return _failed(
            status,
            c.STEP_FAILED,
            message,
            now,
            Failure(step=k.RUNNER_CONTAINER_PUBLISH, exit_code=0, reason=c.STEP_FAILED, message=tail(publish.message)),
        )
    base = {"artifact": summary.artifact, "usage": summary.usage}
    if summary.outcome == "paused":  # stopped at a hard limit with its session kept: core.runresume resumes it
        reason = summary.reason if summary.reason in c.PAUSE_REASONS else c.BUDGET_EXCEEDED_REASON
        return _with(status, phase="Paused", reason=reason, message=summary.message, **base)
    if summary.outcome == "noChanges":
        message = summary.message or "the agent changed nothing"
        return _with(status, phase="Succeeded", reason=c.NO_CHANGES, message=message, completion_time=now, **base)
    review = (summary.review or ReviewStatus()).model_copy(
        update={
            "state": (summary.review.state if summary.review and summary.review.state else "open"),
            "published_at": now,
            "checks_passed": all(check.passed for check in summary.checks),
        }
    )
    message = summary.message or f"pull request {review.url or review.number} awaits review"
    return _with(status, phase="AwaitingReview", reason=c.AWAITING_REVIEW, message=message, review=review, **base)


def step_reason(termination_message: str) -> str:
    """The reason a failed step names at the start of its termination message (`<Reason>: …`), else StepFailed."""
    reason, separator, _ = termination_message.strip().partition(":")
    return reason if separator and reason in c.STEP_FAILURE_REASONS else c.STEP_FAILED


def _from_failed_pod(status: AgentRunStatus, pod: PodObservation, now: str) -> AgentRunStatus:
    failed = next((s for s in pod.steps if s.state == "terminated" and s.exit_code not in (None, 0)), None)
    if pod.reason == DEADLINE_EXCEEDED:
        current = next((s for s in pod.steps if s.state != "terminated" or s.exit_code != 0), None)
        step = current.name if current else None
        message = f"the run exceeded its timeout{f' during {step}' if step else ''}: {pod.message}".rstrip(": ")
        return _failed(status, c.TIMEOUT, message, now, Failure(step=step, reason=c.TIMEOUT, message=tail(pod.message)))
    if failed is not None:
        text, usage = split_usage(failed.message)
        reason = step_reason(text)
        message = f"step {failed.name} exited with code {failed.exit_code}"
        if text.strip():
            message += f": {tail(text, 200)}"
        failure = Failure(step=failed.name, exit_code=failed.exit_code, reason=reason, message=tail(text))
        spent = _with(status, usage=usage) if usage is not None else status
        return _failed(spent, reason, message, now, failure)
    message = f"the runner pod failed: {pod.reason or 'unknown reason'} {pod.message}".strip()
    return _failed(
        status, c.STEP_FAILED, message, now, Failure(reason=pod.reason or c.STEP_FAILED, message=tail(pod.message))
    )


def plan_from_pod(status: AgentRunStatus, *, cancel: bool, pod: PodObservation | None, now: str) -> RunPlan:
    """Next status of a started run (status.podName set) given its pod, or None when the pod is gone."""
    if status.phase in TERMINAL_PHASES:
        return RunPlan(status)
    if cancel:
        cancelled = _with(
            status, phase="Cancelled", reason=c.CANCELLED, message="cancelled by spec.cancel", completion_time=now
        )
        return RunPlan(cancelled, delete_pod=pod is not None)
    if status.phase == "AwaitingReview":
        return RunPlan(status)
    if pod is None:
        message = f"runner pod {status.pod_name} disappeared; it is not recreated because a step may have published"
        return RunPlan(_failed(status, c.POD_LOST, message, now, Failure(reason=c.POD_LOST, message=message)))
    publish = pod.step(k.RUNNER_CONTAINER_PUBLISH)
    if pod.phase == "Succeeded" and publish is not None and publish.state == "terminated":
        return RunPlan(_with(_from_summary(status, publish, now), steps=step_times(pod)))
    if pod.phase == "Failed":
        return RunPlan(_with(_from_failed_pod(status, pod, now), steps=step_times(pod)))
    if any(s.state != "waiting" for s in pod.steps) or pod.phase == "Running":
        # One message for the whole phase, so the run's status is written once per phase, not once per
        # step: which step runs is the pod's own status (`kubectl describe pod`, the console).
        message = f"runner pod {pod.name} is running"
        return RunPlan(_with(status, phase="Running", reason=c.RUNNING, message=message))
    return RunPlan(_with(status, phase="Pending", reason=c.POD_CREATED, message=f"runner pod {pod.name} is starting"))


def with_conditions(status: AgentRunStatus, generation: int | None, now: str) -> AgentRunStatus:
    """Conditions that summarise the phase: Ready only once accepted, Reconciling while work goes on,
    Stalled when the run failed and will not progress on its own."""
    phase: Phase = status.phase
    reason = status.reason or phase
    message = status.message or ""
    wanted = []
    if phase == "Succeeded":
        wanted.append(condition(c.READY, c.TRUE, reason, message, generation))
    else:
        wanted.append(condition(c.READY, c.FALSE, reason, message, generation))
    if phase in ("Pending", "Running"):
        wanted.append(condition(c.RECONCILING, c.TRUE, reason, message, generation))
    if phase == "Failed":
        wanted.append(condition(c.STALLED, c.TRUE, reason, message, generation))
    conds = merge_conditions(status.conditions, wanted, now)
    return status.model_copy(update={"conditions": conds, "observed_generation": generation})
