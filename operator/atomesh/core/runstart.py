"""How a run that has not started yet starts: the whole decision, made from what the controller read.

Pure: the controller reads the run, its Agent and (for a revision) the run it revises, asks
`plan_start`, and applies the `StartPlan` in order: create the ConfigMap, create the pod, write
the status, post the event. Invariants:

- Only a `start` admission produces objects; cancel, wait, hold and fail produce a status alone.
- The ConfigMap and the pod have deterministic names (`core.pod`), so applying a plan twice
  (an operator killed between the two creates) creates each once.
- `retry` says whether the run must be looked at again by itself (its Agent may appear or become
  Ready); a run the mesh holds is not retried: the mesh's next change to it is its next event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun, AgentRunStatus
from atomesh.core.admission import admit_run
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import build_run_configmap, build_runner_pod, revision_context


@dataclass(frozen=True)
class StartPlan:
    """The status the run gets, and the objects to create first (empty unless it starts)."""

    status: AgentRunStatus
    objects: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    retry: bool = False
    created_event: str = ""  # the PodCreated Event's message, posted when the pod is new

    @property
    def pod(self) -> dict[str, Any] | None:
        return next((obj for obj in self.objects if obj.get("kind") == "Pod"), None)


def plan_start(
    run: AgentRun,
    status: AgentRunStatus,
    *,
    agent: Agent | None,
    previous: AgentRun | None,
    config: OperatorConfig,
    now: str,
) -> StartPlan:
    """Cancelled before it started, waiting, held, failed, or started: its ConfigMap and runner pod."""
    if run.spec.cancel:
        cancelled = status.model_copy(
            update={"phase": "Cancelled", "reason": c.CANCELLED, "message": "cancelled before it started"}
        )
        return StartPlan(cancelled.model_copy(update={"completion_time": now}))
    admission = admit_run(run, agent)
    if admission.verdict in ("wait", "hold"):
        waiting = status.model_copy(
            update={"phase": "Pending", "reason": admission.reason, "message": admission.message}
        )
        return StartPlan(waiting, retry=admission.verdict == "wait")
    if admission.verdict == "fail" or admission.snapshot is None:
        update = {"phase": "Failed", "reason": admission.reason, "message": admission.message, "completion_time": now}
        failed = status.model_copy(update=update)
        return StartPlan(failed)
    snapshot = admission.snapshot
    configmap = build_run_configmap(run, snapshot, revision_context(previous))
    pod = build_runner_pod(run, snapshot, config)
    name = pod["metadata"]["name"]
    started = status.model_copy(
        update={
            "phase": "Pending",
            "reason": c.POD_CREATED,
            "message": f"runner pod {name} created",
            "agent": snapshot,
            "pod_name": name,
            "start_time": status.start_time or now,
        }
    )
    event = f"created runner pod {name} for agent revision {snapshot.revision}"
    return StartPlan(started, (configmap, pod), created_event=event)
