"""Whether a new run may start: its Agent must exist and be Ready, its input must satisfy the
agent's input schema. A run that starts gets a snapshot of the agent, so later edits or deletion
of the Agent do not change it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from atomesh.api import conditions as c
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun, AgentSnapshot
from atomesh.core.conditions import find
from atomesh.core.validation import check_input

Verdict = Literal["start", "wait", "fail"]


@dataclass(frozen=True)
class Admission:
    """start (with the snapshot), wait (retry later: the agent may appear or become ready) or fail."""

    verdict: Verdict
    reason: str
    message: str
    snapshot: AgentSnapshot | None = None


def admit_run(run: AgentRun, agent: Agent | None) -> Admission:
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
    )
    return Admission("start", c.CREATED, f"agent revision {snapshot.revision}", snapshot)
