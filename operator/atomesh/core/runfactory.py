"""The one way atomesh makes an AgentRun: schedules, mesh edges, review revisions, event triggers
and the demo all describe the run they want as a `RunRequest` and get its manifest from `build_run`.

Invariants:
- Every generated name comes from `run_name` and is at most `MAX_RUN_NAME` characters, so the
  runner pod (`<run>-runner`) stays within Kubernetes' 63; a base cut to fit carries a hash of the
  whole base, so two long bases that share a prefix never give the same name.
- Names are deterministic in what the caller passes (a schedule slot, a mesh execution and node, the
  run revised, a delivery id): a caller that applies the same decision twice asks for the same name,
  and the API server's AlreadyExists makes the second create a no-op. That is the exactly-once key.
- Every run carries `atomesh.io/agent` and `atomesh.io/trigger` labels and `spec.trigger`, so
  selectors and provenance never depend on which path made it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atomesh.api.agentrun import TriggerKind
from atomesh.api.constants import API_VERSION, KIND_AGENT_RUN, LABEL_AGENT, LABEL_TRIGGER
from atomesh.core.hashing import bounded_name

MAX_RUN_NAME = 56  # 63 minus "-runner", the runner pod's suffix


def run_name(base: str, suffix: str = "") -> str:
    """`<base><suffix>` within MAX_RUN_NAME; a long base is cut and tagged with its hash."""
    return bounded_name(base, suffix, MAX_RUN_NAME)


@dataclass(frozen=True)
class RunRequest:
    """What distinguishes one new AgentRun: its name, its Agent, and who or what asked for it."""

    name: str
    agent: str
    trigger: TriggerKind
    source: str
    namespace: str | None = None
    input: Mapping[str, Any] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    revision_of: str | None = None
    feedback: Sequence[Mapping[str, Any]] = ()
    pull_request: Mapping[str, Any] | None = None  # spec.pullRequest: push to this pull request's head branch


def build_run(request: RunRequest) -> dict[str, Any]:
    """The AgentRun manifest of a request (a plain dict, ready to create)."""
    if len(request.name) > MAX_RUN_NAME:
        raise ValueError(f"run name {request.name!r} is longer than {MAX_RUN_NAME} characters: make it with run_name()")
    metadata: dict[str, Any] = {
        "name": request.name,
        "labels": {**request.labels, LABEL_AGENT: request.agent, LABEL_TRIGGER: request.trigger},
        "annotations": dict(request.annotations),
    }
    if request.namespace:
        metadata["namespace"] = request.namespace
    spec: dict[str, Any] = {
        "agentRef": {"name": request.agent},
        "input": dict(request.input),
        "trigger": {"kind": request.trigger, "source": request.source},
    }
    if request.revision_of is not None:
        spec["revisionOf"] = request.revision_of
    if request.revision_of is not None or request.feedback:  # a memory run carries the lessons it proposes
        spec["feedback"] = [dict(item) for item in request.feedback]
    if request.pull_request is not None:
        spec["pullRequest"] = dict(request.pull_request)
    return {"apiVersion": API_VERSION, "kind": KIND_AGENT_RUN, "metadata": metadata, "spec": spec}
