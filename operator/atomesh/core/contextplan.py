"""A Context's reconcile plan, and which Agents must be resolved again after it.

Pure. Invariants:

- The plan's status is the whole status (`core.context.plan_context_status`, or InvalidSpec/Stalled
  for a spec the model refuses), so applying it twice writes once; the one Event is a change of Ready.
- A source that is not resolved yet (an unreachable ref, a missing ConfigMap) is both in the status
  and a `Transient` requeue: it may appear without the Context changing. A refused source (oci, over
  `spec.maxBytes`, an invalid spec) is Stalled and not requeued: only a new generation changes it.
- An Agent is resolved again only when what it pinned differs from what its selection resolves to
  now (its versions, or whether it waits for a Context): a Context re-read by its poll with nothing
  new wakes no Agent, while a new version, a relabelling or a deletion wakes every Agent it concerns.
- Agents of other namespaces that name the Context in `spec.context.refs` (or pinned it) are woken when
  its spec, its version or its existence changed (`shared_changed`): a tightened `allowedNamespaces`
  reaches them as a new generation, and a poll that found nothing new wakes none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.common import dump
from atomesh.api.context import Context, ContextStatus
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.context import SourceObservation, plan_context_status, select_contexts, selects
from atomesh.core.plan import Event, Plan
from atomesh.core.requeue import Transient


def plan_context(
    status: Mapping[str, Any],
    *,
    name: str,
    generation: int | None,
    context: Context | None,
    invalid: str | None,
    observed: SourceObservation,
    now: str,
) -> Plan:
    """The plan of Context `name`: `context` is None exactly when its spec is `invalid`."""
    current = ContextStatus.model_validate(dict(status))
    if context is None:
        message = invalid or "spec is invalid"
        conds = merge_conditions(
            current.conditions,
            [
                condition(c.READY, c.FALSE, c.INVALID_SPEC, message, generation),
                condition(c.STALLED, c.TRUE, c.INVALID_SPEC, message, generation),
            ],
            now,
        )
        new = ContextStatus(observed_generation=generation, conditions=conds)
    else:
        new = plan_context_status(
            current, name=name, generation=generation, spec=context.spec, observed=observed, now=now
        )
    ready, before = find(new.conditions, c.READY), find(current.conditions, c.READY)
    events: tuple[Event, ...] = ()
    if ready is not None and ready != before:
        events = (Event("Normal" if ready.status == c.TRUE else "Warning", ready.reason, ready.message),)
    requeue = None
    if ready is not None and ready.status != c.TRUE and find(new.conditions, c.RECONCILING) is not None:
        requeue = Transient(ready.message)
    return Plan(status=dump(new), events=events, requeue=requeue)


def agents_to_refresh(name: str, contexts: Iterable[Context], agents: Iterable[Mapping[str, Any]]) -> list[str]:
    """The Agents (of one namespace) that select Context `name` or pinned it, whose pinned contexts
    differ from what their selection resolves to among `contexts` (the namespace's, as they are now;
    `name` is absent when it was deleted)."""
    contexts = list(contexts)
    this = next((context for context in contexts if context.metadata.name == name), None)
    stale = []
    for body in agents:
        try:
            spec = AgentSpec.model_validate(body.get("spec") or {})
            status = AgentStatus.model_validate(body.get("status") or {})
        except ValidationError:
            continue  # the Agent's own reconcile reports it
        if spec.context is None:
            continue
        used = any(version.name == name for version in status.contexts)
        named = name in spec.context.names
        if not (used or named or (this is not None and selects(spec.context, this))):
            continue
        selection = select_contexts(spec.context, contexts)
        ready = find(status.conditions, c.READY)
        waiting = ready is not None and ready.reason == c.CONTEXT_NOT_READY
        if (selection.error is not None) != waiting or list(selection.versions) != status.contexts:
            stale.append(str((body.get("metadata") or {}).get("name", "")))
    return sorted(stale)


def shared_changed(body: Mapping[str, Any] | None, plan: Plan) -> bool:
    """Whether other namespaces' Agents must look at the Context again: it is gone, its spec changed since
    it was last reconciled (allowedNamespaces among it), or its resolved revision changed."""
    if body is None:
        return True
    status = body.get("status") or {}
    if (body.get("metadata") or {}).get("generation") != status.get("observedGeneration"):
        return True
    return plan.status is not None and plan.status.get("revision") != status.get("revision")


def agents_referencing(namespace: str, name: str, agents: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(namespace, name) of the Agents in other namespaces that name Context `namespace/name` in
    `spec.context.refs` or pinned it; their own reconcile decides what changed."""
    found = []
    for body in agents:
        meta = body.get("metadata") or {}
        if meta.get("namespace") == namespace:
            continue
        refs = ((body.get("spec") or {}).get("context") or {}).get("refs") or []
        pinned = (body.get("status") or {}).get("contexts") or []
        if any(ref.get("namespace") == namespace and ref.get("name") == name for ref in refs) or any(
            version.get("namespace") == namespace and version.get("name") == name for version in pinned
        ):
            found.append((str(meta.get("namespace", "")), str(meta.get("name", ""))))
    return sorted(found)
