"""Whether a new run may start: the mesh it belongs to must have admitted it, its Agent must exist
and be Ready, its input must satisfy the agent's input schema. A run that starts gets a snapshot
of the agent, so later edits or deletion of the Agent do not change it.

Mesh runs (see `core.meshplan`): a run the mesh holds (annotation `atomesh.io/queued`) or has not
adopted yet (labelled `atomesh.io/mesh` without `atomesh.io/mesh-execution`) is held: Pending,
reason Queued, no pod, no retry; the mesh's next change to the run admits it. A run whose input
the mesh could not map (annotation `atomesh.io/input-error`) fails with reason InvalidInput.

A run of a CostUnknown Agent (a model without a price) that sets a cost limit in dollars
(`limits.maxCostUSD`, `budget.perRun/perDay/perMonth.usd`) fails with reason CostUnknown: a limit
that counts $0 would never hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atomesh.api import conditions as c
from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.agentrun import AgentRun, AgentSnapshot
from atomesh.api.constants import ANNOTATION_INPUT_ERROR, ANNOTATION_QUEUED, LABEL_MESH, LABEL_MESH_EXECUTION
from atomesh.core.conditions import find
from atomesh.core.validation import check_input

Verdict = Literal["start", "wait", "hold", "fail"]
MESH_ADMISSION_PENDING = "waiting for mesh {mesh} to admit it into an execution"


@dataclass(frozen=True)
class Admission:
    """start (with the snapshot), wait (retry later: the agent may appear or become ready),
    hold (the mesh releases it: no retry) or fail."""

    verdict: Verdict
    reason: str
    message: str
    snapshot: AgentSnapshot | None = None


def mesh_gate(run: AgentRun) -> Admission | None:
    """The mesh's say on a run: fail (unmappable input), hold (queued or not adopted yet), or None."""
    annotations, labels = run.metadata.annotations, run.metadata.labels
    error = annotations.get(ANNOTATION_INPUT_ERROR)
    if error:
        return Admission("fail", c.INVALID_INPUT, error)
    queued = annotations.get(ANNOTATION_QUEUED)
    if queued:
        return Admission("hold", c.QUEUED, queued)
    mesh = labels.get(LABEL_MESH)
    if mesh and not labels.get(LABEL_MESH_EXECUTION):
        return Admission("hold", c.QUEUED, MESH_ADMISSION_PENDING.format(mesh=mesh))
    return None


def cost_limit(spec: AgentSpec) -> str | None:
    """The first cost limit in US dollars the Agent declares (`field=$value`), None without one."""
    if spec.limits.max_cost_usd is not None:
        return f"limits.maxCostUSD=${spec.limits.max_cost_usd:g}"
    budget = spec.budget
    if budget is None:
        return None
    for key, limit in (("perRun", budget.per_run), ("perDay", budget.per_day), ("perMonth", budget.per_month)):
        if limit is not None and limit.usd is not None:
            return f"budget.{key}.usd=${limit.usd:g}"
    return None


def admit_run(run: AgentRun, agent: Agent | None) -> Admission:
    gate = mesh_gate(run)
    if gate is not None:
        return gate
    name = run.spec.agent_ref.name
    if agent is None:
        return Admission("wait", c.AGENT_NOT_FOUND, f"Agent {name!r} does not exist in this namespace")
    status = agent.status
    ready = find(status.conditions, c.READY) if status else None
    if status is None or ready is None or ready.status != c.TRUE or not status.spec_hash:
        detail = f": {ready.message}" if ready is not None and ready.message else ""
        return Admission("wait", c.AGENT_NOT_READY, f"Agent {name!r} is not Ready{detail}")
    if ready.observed_generation is not None and ready.observed_generation != agent.metadata.generation:
        return Admission("wait", c.AGENT_NOT_READY, f"Agent {name!r} has changes not reconciled yet")
    unpriced = find(status.conditions, c.COST_UNKNOWN_CONDITION)
    limit = cost_limit(agent.spec)
    if unpriced is not None and unpriced.status == c.TRUE and limit is not None:
        return Admission("fail", c.COST_UNKNOWN, f"{limit} cannot hold: {unpriced.message}")
    errors = check_input(run.spec.input, agent.spec.input.json_schema, ("spec", "input"))
    if errors:
        message = "; ".join(f"{error.path}: {error.message}" for error in errors)
        return Admission("fail", c.INVALID_INPUT, message)
    snapshot = AgentSnapshot(
        name=name,
        revision=status.revision or "",
        commit=status.commit,
        spec_hash=status.spec_hash,
        spec=agent.spec,
        contexts=list(status.contexts),
    )
    return Admission("start", c.CREATED, f"agent revision {snapshot.revision}", snapshot)
