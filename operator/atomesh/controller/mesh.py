"""Mesh reconciliation: load the Mesh, its Agents and its AgentRuns, ask `core.meshplan` what to do,
and apply the plan — create downstream runs, adopt root runs users created, release queued runs —
then write the rollup status.

Everything is level-based and idempotent: a downstream run's name is the exactly-once key of its
edge (creating it again answers AlreadyExists), adoption and release are merge patches, and the
status is written only when it changed. So the mesh may be planned on any event, and an operator
killed between two writes picks up where it left off.

A mesh is planned again when it changes, when one of its runs changes (label `atomesh.io/mesh`),
when an Agent changes, and on a slow timer (the budget's day rolling over). All of them enqueue the
request `mesh <namespace>/<name>`: the work queue coalesces a burst of them, and a mesh changed while
it is planned is planned once more after.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.mesh import Mesh
from atomesh.controller.apply import apply
from atomesh.controller.context import OperatorContext
from atomesh.core.meshactions import REPORTED, invalid_mesh_plan, plan_mesh_actions, report_key
from atomesh.core.meshplan import plan_mesh
from atomesh.core.revision import describe_validation_error
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES

log = logging.getLogger(__name__)
MESH = "mesh"
RESYNC_SECONDS = 30.0  # the timer: budget windows roll over, and a missed event is made up for


def _agents(ctx: OperatorContext, namespace: str, mesh: Mesh) -> dict[str, Agent]:
    """The Agents the mesh's nodes name (only those: a namespace may hold thousands)."""
    agents = {}
    for name in sorted({node.agent_ref.name for node in mesh.spec.agents}):
        item = ctx.kube.get(AGENTS, namespace, name)
        if item is None:
            continue
        try:
            agent = Agent.model_validate(item)
        except ValidationError:
            continue  # the Agent's own status says why; the mesh sees it as missing
        agents[agent.metadata.name] = agent
    return agents


def _runs(ctx: OperatorContext, namespace: str, mesh: str) -> list[AgentRun]:
    runs = []
    for item in ctx.kube.list(AGENT_RUNS, namespace, {k.LABEL_MESH: mesh}):
        try:
            runs.append(AgentRun.model_validate(item))
        except ValidationError:
            continue  # failed by the AgentRun controller with reason InvalidSpec
    return runs


class MeshReconciler:
    """Plans and applies meshes for one operator instance, remembering the reports it made."""

    def __init__(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._reported: dict[tuple[str, str], set[str]] = {}

    def reconcile(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        raw = ctx.kube.get(MESHES, namespace, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            with self._lock:
                self._reported.pop((namespace, name), None)
            return
        status: dict[str, Any] = dict(raw.get("status") or {})
        try:
            mesh = Mesh.model_validate(raw)
        except ValidationError as exc:
            generation = (raw.get("metadata") or {}).get("generation")
            apply(ctx, MESHES, raw, invalid_mesh_plan(status, generation, describe_validation_error(exc), ctx.now()))
            return
        with self._lock:
            reported = frozenset(self._reported.get((namespace, name), ()))
        graph = plan_mesh(mesh, _agents(ctx, namespace, mesh), _runs(ctx, namespace, name), ctx.clock())
        plan = plan_mesh_actions(graph, status, reported)
        try:
            apply(ctx, MESHES, raw, plan)
        finally:
            with self._lock:
                self._reported.setdefault((namespace, name), set()).update(
                    report_key(event) for event in plan.events if event.reason in REPORTED
                )


def meshes_using(ctx: OperatorContext, namespace: str, agent: str) -> list[str]:
    """Names of the meshes in `namespace` with a node that runs `agent`."""
    names = []
    for item in ctx.kube.list(MESHES, namespace):
        nodes = (item.get("spec") or {}).get("agents") or []
        if any(((node or {}).get("agentRef") or {}).get("name") == agent for node in nodes):
            names.append(item["metadata"]["name"])
    return names


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    meshes = MeshReconciler(ctx)
    ctx.workers.register(MESH, meshes.reconcile)

    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_MESHES, registry=registry)
    async def mesh_resumed(*, namespace: str | None, name: str, **_: Any) -> None:
        # Seen in the initial list: waits behind new work (a restart resyncs every object).
        ctx.workers.enqueue(MESH, namespace or "default", name, resync=True)

    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_MESHES, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_MESHES, field="spec", registry=registry)
    async def mesh_changed(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(MESH, namespace or "default", name)

    @kopf.timer(
        k.GROUP, k.VERSION, k.PLURAL_MESHES, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS, registry=registry
    )
    async def mesh_resync(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(MESH, namespace or "default", name)

    def mesh_run_event(type: str | None, body: Body) -> None:
        """A run of the mesh changed (or went away): its edges may fire, a slot may be free."""
        meta = body.get("metadata") or {}
        mesh = (meta.get("labels") or {}).get(k.LABEL_MESH)
        if mesh:
            ctx.workers.enqueue(MESH, str(meta.get("namespace") or "default"), mesh, resync=type is None)

    ctx.run_events.subscribe(mesh_run_event)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    async def mesh_agent_event(*, name: str, namespace: str | None, **_: Any) -> None:
        """An Agent appeared, became Ready or went away: the meshes using it change readiness."""
        ns = namespace or "default"
        try:
            # From the watch cache a lookup in memory, else a LIST off the event loop.
            cached = isinstance(ctx.kube, CachedKube) and ctx.kube.synced
            users = meshes_using(ctx, ns, name) if cached else await asyncio.to_thread(meshes_using, ctx, ns, name)
        except KubeError as error:  # the timer makes up for a missed event
            log.info("listing the meshes using Agent %s/%s: %s", ns, name, error)
            return
        for mesh in users:
            ctx.workers.enqueue(MESH, ns, mesh)
