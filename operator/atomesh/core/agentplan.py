"""An Agent's reconcile plan: its status from its spec and what resolving it found, the Events for
what changed, and a retry while a ref or the workspace cannot be resolved.

Pure. Invariants: the plan's status is the whole status (`plan_agent_status`), so applying it twice
writes once; Events come only from a change (`agent_events`); an unresolvable source or workspace
is both in the status (ResolvedRefs / Ready False, with git's or the forge's message) and a
`Transient` requeue, since the ref may appear without the Agent changing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.common import dump
from atomesh.core.context import ContextSelection
from atomesh.core.plan import Event, Plan
from atomesh.core.requeue import Transient
from atomesh.core.revision import RefResolution, agent_events, plan_agent_status


def plan_agent(
    status: Mapping[str, Any],
    *,
    generation: int | None,
    spec: AgentSpec | None,
    invalid: str | None,
    resolution: RefResolution | None,
    workspace: RefResolution | None,
    contexts: ContextSelection | None = None,
    priced: bool,
    now: str,
) -> Plan:
    current = AgentStatus.model_validate(dict(status))
    new = plan_agent_status(
        current,
        generation=generation,
        spec=spec,
        invalid=invalid,
        resolution=resolution,
        now=now,
        priced=priced,
        workspace=workspace,
        contexts=contexts,
    )
    events = tuple(
        Event("Warning" if event.type == "Warning" else "Normal", event.reason, event.message)
        for event in agent_events(current, new)
    )
    requeue = None
    if resolution is not None and resolution.error is not None:
        requeue = Transient(f"resolving source.ref failed: {resolution.error}")
    elif workspace is not None and workspace.error is not None:
        requeue = Transient(f"resolving spec.workspace failed: {workspace.error}")
    return Plan(status=dump(new), events=events, requeue=requeue)
