"""What a supervisor does from the console, as requests to the Kubernetes API under their own identity:
cancel runs (`spec.cancel`), suspend or resume Agents and Meshes (`spec.suspend`), start a run of an Agent.

Each action answers an `Outcome` per object (done, or the API server's refusal: Forbidden, NotFound,
Invalid), so a bulk action reports what it did and what it could not, and RBAC stays the judge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from atomesh.api import Agent
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.core.validation import check_input
from atomesh.kube.client import Kube, KubeError
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, Resource

KINDS: dict[str, Resource] = {"Agent": AGENTS, "Mesh": MESHES, "AgentRun": AGENT_RUNS}
CONSOLE_SOURCE = "atomesh-console"


@dataclass(frozen=True)
class Outcome:
    """What became of one object of an action."""

    namespace: str
    name: str
    ok: bool
    message: str


def _refusal(namespace: str, name: str, exc: KubeError) -> Outcome:
    return Outcome(namespace, name, False, f"{exc.reason}: {exc.message}")


def cancel_runs(kube: Kube, runs: Sequence[tuple[str, str]]) -> list[Outcome]:
    """Set `spec.cancel` on each run; the operator deletes its pod and marks it Cancelled."""
    outcomes = []
    for namespace, name in runs:
        try:
            patched = kube.patch(AGENT_RUNS, namespace, name, {"spec": {"cancel": True}})
        except KubeError as exc:
            outcomes.append(_refusal(namespace, name, exc))
            continue
        found = patched is not None
        outcomes.append(Outcome(namespace, name, found, "cancel requested" if found else "NotFound: no such run"))
    return outcomes


def set_suspend(kube: Kube, kind: str, objects: Sequence[tuple[str, str]], suspend: bool) -> list[Outcome]:
    """Suspend (or resume) Agents or Meshes: no new runs start while suspended."""
    resource = KINDS.get(kind)
    if resource is None or resource is AGENT_RUNS:
        raise ValueError(f"kind {kind!r} cannot be suspended: use Agent or Mesh")
    outcomes = []
    for namespace, name in objects:
        try:
            patched = kube.patch(resource, namespace, name, {"spec": {"suspend": suspend}})
        except KubeError as exc:
            outcomes.append(_refusal(namespace, name, exc))
            continue
        message = ("suspended" if suspend else "resumed") if patched is not None else f"NotFound: no such {kind}"
        outcomes.append(Outcome(namespace, name, patched is not None, message))
    return outcomes


def start_run(kube: Kube, agent: Agent, run_input: Mapping[str, Any], request_id: str, user: str) -> Outcome:
    """Create a manual run of `agent` with `run_input`, checked against its input schema first.

    `request_id` is the form's one-time id: submitting the same form twice asks for the same run name,
    and the API server's AlreadyExists makes the second a no-op (the factory's exactly-once key)."""
    namespace = agent.metadata.namespace or "default"
    errors = check_input(run_input, agent.spec.input.json_schema, ("spec", "input"))
    if errors:
        detail = "; ".join(f"{error.path}: {error.message}" for error in errors)
        return Outcome(namespace, agent.metadata.name, False, f"Invalid input: {detail}")
    digest = hashlib.sha256(request_id.encode()).hexdigest()[:8]
    request = RunRequest(
        name=run_name(f"{agent.metadata.name}-manual", f"-{digest}"),
        agent=agent.metadata.name,
        trigger="manual",
        source=user or CONSOLE_SOURCE,
        namespace=namespace,
        input=dict(run_input),
    )
    try:
        created, new = kube.create(AGENT_RUNS, build_run(request))
    except KubeError as exc:
        return _refusal(namespace, request.name, exc)
    name = str(created["metadata"]["name"])
    return Outcome(namespace, name, True, "run created" if new else "run already created by this form")
