"""An Agent's status from its spec and the result of resolving its source: revision, spec hash,
conditions (Ready, ResolvedRefs, Reconciling, Stalled) and the Events worth posting on change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.common import Condition, ConditionStatus, redact_userinfo
from atomesh.core.conditions import condition, find, merge_conditions
from atomesh.core.context import ContextSelection, with_contexts
from atomesh.core.hashing import SHORT, spec_hash


@dataclass(frozen=True)
class RefResolution:
    """Outcome of resolving `spec.source.ref`: a commit, or an error to show and retry."""

    commit: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class AgentEvent:
    """A Kubernetes Event to post: type Normal or Warning, CamelCase reason, message."""

    type: str
    reason: str
    message: str


def describe_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """`field.path: message` for each error, so users see what to fix and where."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        where = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "spec")
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def revision_of(spec: AgentSpec, commit: str | None, hash_: str) -> str:
    """`<ref>@sha1:<commit>` for git sources, `inline@<short spec hash>` for inline instructions."""
    if spec.source is None:
        return f"inline@{hash_[:SHORT]}"
    return f"{spec.source.ref}@sha1:{commit}"


def _held(
    current: AgentStatus,
    generation: int | None,
    now: str,
    reason: str,
    message: str,
    *others: tuple[str, ConditionStatus],
    also: Sequence[Condition] = (),
) -> AgentStatus:
    """The status kept from Ready for `reason`: Ready=False and each (type, status) of `others` with the
    same reason and message, after the conditions `also` sets; nothing else changes."""
    desired = [
        *also,
        condition(c.READY, c.FALSE, reason, message, generation),
        *(condition(type_, status, reason, message, generation) for type_, status in others),
    ]
    conds = merge_conditions(current.conditions, desired, now)
    return current.model_copy(update={"observed_generation": generation, "conditions": conds})


def plan_agent_status(
    current: AgentStatus,
    *,
    generation: int | None,
    spec: AgentSpec | None,
    invalid: str | None,
    resolution: RefResolution | None,
    now: str,
    priced: bool = True,
    workspace: RefResolution | None = None,
    contexts: ContextSelection | None = None,
) -> AgentStatus:
    """The next status. Counters, schedule times and cost are kept: other handlers own them.
    `priced` says whether the model has a price (the price table's or a declared one); without one the
    Agent is Ready and CostUnknown. `workspace` is the check of `spec.workspace` (None: not checked);
    a workspace that cannot be resolved keeps the Agent from Ready, as an unresolvable source does.
    `contexts` is the selection of `spec.context`: its pinned versions go into the status and the revision;
    a Context that is missing or not Ready keeps the Agent from Ready (ContextNotReady)."""
    if spec is None or invalid is not None:
        message = invalid or "spec is invalid"
        return _held(current, generation, now, c.INVALID_SPEC, message, (c.STALLED, c.TRUE))
    hash_ = spec_hash(spec)
    if spec.source is None:
        resolved = condition(c.RESOLVED_REFS, c.TRUE, c.INLINE_INSTRUCTIONS, "instructions are inline", generation)
        commit = None
    elif resolution is None or resolution.commit is None:
        error = (resolution.error if resolution else None) or "not resolved yet"
        repo = redact_userinfo(spec.source.repo)
        message = redact_userinfo(f"resolving {spec.source.ref} in {repo} failed: {error}; retrying")
        return _held(
            current,
            generation,
            now,
            c.REF_RESOLUTION_FAILED,
            message,
            (c.RESOLVED_REFS, c.FALSE),
            (c.RECONCILING, c.TRUE),
        )
    else:
        commit = resolution.commit
        resolved = condition(
            c.RESOLVED_REFS, c.TRUE, c.REFS_RESOLVED, f"{spec.source.ref} resolved to {commit}", generation
        )
    if workspace is not None and workspace.error is not None:
        where = f"{redact_userinfo(spec.workspace.repo)} at spec.workspace.baseBranch {spec.workspace.base_branch!r}"
        message = redact_userinfo(f"workspace {where} cannot be resolved: {workspace.error}; retrying")
        return _held(
            current, generation, now, c.WORKSPACE_UNRESOLVABLE, message, (c.RECONCILING, c.TRUE), also=[resolved]
        )
    if contexts is not None and contexts.refused:
        message = "spec.context.refs: " + "; ".join(contexts.refused)
        return _held(
            current, generation, now, c.REF_NOT_PERMITTED, message, (c.RESOLVED_REFS, c.FALSE), (c.STALLED, c.TRUE)
        )
    if contexts is not None and contexts.error is not None:
        message = f"spec.context: {contexts.error}; waiting for the Context"
        return _held(
            current, generation, now, c.CONTEXT_NOT_READY, message, (c.RESOLVED_REFS, c.FALSE), (c.RECONCILING, c.TRUE)
        )
    pinned = list(contexts.versions) if contexts is not None else []
    revision = with_contexts(revision_of(spec, commit, hash_), pinned)
    desired = [resolved, condition(c.READY, c.TRUE, c.RECONCILED, f"revision {revision}", generation)]
    if not priced:
        desired.append(condition(c.COST_UNKNOWN_CONDITION, c.TRUE, c.COST_UNKNOWN, unpriced(spec), generation))
    conds = merge_conditions(current.conditions, desired, now)
    return current.model_copy(
        update={
            "observed_generation": generation,
            "conditions": conds,
            "revision": revision,
            "commit": commit,
            "spec_hash": hash_,
            "contexts": pinned,
        }
    )


def unpriced(spec: AgentSpec) -> str:
    return (
        f"model {spec.harness.model!r} is not in atomesh's price table: its runs count $0 and a cost limit cannot "
        "hold; declare spec.harness.price (inputUSDPerMTok, outputUSDPerMTok), or check the model's spelling"
    )


def agent_events(old: AgentStatus, new: AgentStatus) -> list[AgentEvent]:
    """Events for what changed between two statuses; nothing when nothing changed (no event spam)."""
    events: list[AgentEvent] = []
    if new.revision and new.revision != old.revision:
        events.append(AgentEvent("Normal", c.REVISION_CHANGED, f"revision {old.revision or '-'} -> {new.revision}"))
    before = find(old.conditions, c.READY)
    ready = find(new.conditions, c.READY)
    if ready is not None and (
        before is None or (before.status, before.reason, before.message) != (ready.status, ready.reason, ready.message)
    ):
        events.append(AgentEvent("Normal" if ready.status == c.TRUE else "Warning", ready.reason, ready.message))
    return events
