"""Agent reconciliation: validate, resolve `source.ref`, record revision and conditions.

A broken Agent never crashes the operator: an invalid spec becomes Stalled with the field and
the fix; an unreachable source becomes ResolvedRefs=False and raises Transient (retried with backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.agent import Agent, AgentSpec, AgentStatus
from atomesh.api.agentrun import AgentRun
from atomesh.api.common import dump, redact_userinfo
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.reconciler import guarded
from atomesh.core.requeue import Transient
from atomesh.core.revision import RefResolution, agent_events, describe_validation_error, plan_agent_status
from atomesh.core.rollup import rollup_runs
from atomesh.core.validation import validate_agent_spec
from atomesh.forge.errors import ForgeError
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS

log = logging.getLogger(__name__)


def status_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """A merge patch turning status `old` into `new`: keys that disappeared, at any depth, are set to
    null (a merge patch merges nested objects, so leaving a key out would keep it)."""
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(before, Mapping) and isinstance(value, Mapping):
            patch[key] = status_patch(before, value)
        else:
            patch[key] = value
    patch.update({key: None for key in old if key not in new})
    return patch


def resolve(ctx: OperatorContext, agent: Agent) -> RefResolution | None:
    source = agent.spec.source
    if source is None:
        return None
    try:
        return RefResolution(commit=ctx.resolver(source.repo, source.ref))
    except ForgeError as exc:
        return RefResolution(error=exc.message)
    except OSError as exc:  # git itself could not run
        return RefResolution(error=redact_userinfo(str(exc)))


def resolve_workspace(ctx: OperatorContext, spec: AgentSpec) -> RefResolution | None:
    """The workspace's base branch: through the forge's API for owner/name (when the operator has forge
    credentials), with git for a URL; None when it cannot be checked."""
    workspace = spec.workspace
    try:
        if "://" in workspace.repo or workspace.repo.startswith(("/", "git@", "file:")):
            return RefResolution(commit=ctx.resolver(workspace.repo, workspace.base_branch))
        if ctx.branch_head is None:
            return None
        return RefResolution(commit=ctx.branch_head(workspace.repo, workspace.base_branch))
    except ForgeError as exc:
        return RefResolution(error=exc.message)
    except OSError as exc:  # git itself could not run
        return RefResolution(error=redact_userinfo(str(exc)))


def reconcile_agent(ctx: OperatorContext, body: Mapping[str, Any]) -> None:
    """Validate, resolve, write status when it changed; raise Transient to retry a failed resolution."""
    meta = body.get("metadata") or {}
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    old_wire: dict[str, Any] = dict(body.get("status") or {})
    current = AgentStatus.model_validate(old_wire)
    spec, invalid, resolution, workspace = None, None, None, None
    try:
        agent = Agent.model_validate(dict(body))
    except ValidationError as exc:
        invalid = describe_validation_error(exc)
    else:
        errors = validate_agent_spec(agent.spec, ctx.config.allowed_repository_hosts())
        if errors:
            invalid = "; ".join(f"{error.path}: {error.message}" for error in errors)
        else:
            spec = agent.spec
            resolution = resolve(ctx, agent)
            if resolution is None or resolution.error is None:
                workspace = resolve_workspace(ctx, spec)
    priced = spec is None or spec.harness.price is not None or ctx.prices(spec.harness.model) is not None
    new = plan_agent_status(
        current,
        generation=meta.get("generation"),
        spec=spec,
        invalid=invalid,
        resolution=resolution,
        now=ctx.now(),
        priced=priced,
        workspace=workspace,
    )
    new_wire = dump(new)
    patch = status_patch(old_wire, new_wire)
    if patch:
        ctx.kube.patch_status(AGENTS, namespace, name, patch)
        for event in agent_events(current, new):
            post_event(body, event.type, event.reason, event.message)
    if invalid:
        log.warning("Agent %s/%s is invalid: %s", namespace, name, invalid)
    if resolution is not None and resolution.error is not None:
        raise Transient(f"resolving source.ref failed: {resolution.error}")
    if workspace is not None and workspace.error is not None:
        raise Transient(f"resolving spec.workspace failed: {workspace.error}")


def request_rollup(ctx: OperatorContext, namespace: str, agent: str) -> None:
    """Refresh the agent's rollup soon, once for a burst of run changes (see controller.coalesce)."""
    ctx.followups.poke(("rollup", namespace, agent), lambda: refresh_rollup(ctx, namespace, agent))


def agent_of(run: Mapping[str, Any]) -> str | None:
    """The Agent an AgentRun manifest names (manual runs carry no label, so this reads the spec)."""
    return ((run.get("spec") or {}).get("agentRef") or {}).get("name")


def runs_of(ctx: OperatorContext, namespace: str, agent: str) -> list[Body]:
    """The AgentRun manifests in `namespace` whose agentRef names `agent`."""
    return [item for item in ctx.kube.list(AGENT_RUNS, namespace) if agent_of(item) == agent]


def refresh_rollup(ctx: OperatorContext, namespace: str, agent: str) -> None:
    """Counters, lastRun and cost of the agent from its runs; written only when they changed."""
    body = ctx.kube.get(AGENTS, namespace, agent)
    if body is None:
        return
    runs = []
    for item in runs_of(ctx, namespace, agent):
        try:
            runs.append(AgentRun.model_validate(item))
        except ValidationError:
            continue
    old = dict(body.get("status") or {})
    wanted = rollup_runs(runs)
    patch = {key: value for key, value in wanted.items() if old.get(key) != value}
    if patch:
        ctx.kube.patch_status(AGENTS, namespace, agent, patch)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_AGENTS, field="spec", registry=registry)
    def agent_changed(body: kopf.Body, retry: int, **_: Any) -> None:
        guarded(ctx, "agent", _name_of(body), lambda: reconcile_agent(ctx, body), retry=retry)

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_AGENTS,
        interval=ctx.config.ref_poll_interval_seconds,
        initial_delay=ctx.config.ref_poll_interval_seconds,
        when=lambda spec, **_: bool(spec.get("source")),
        registry=registry,
    )
    def agent_source_poll(body: kopf.Body, **_: Any) -> None:
        """A branch moves without the Agent changing: re-resolve now and then (writes only on change)."""
        guarded(ctx, "agent", _name_of(body), lambda: reconcile_agent(ctx, body), retried=False)


def _name_of(body: Mapping[str, Any]) -> str:
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
