"""Mesh reconciliation: load the Mesh, its Agents and its AgentRuns, ask `core.meshplan` what to do,
and apply the plan — create downstream runs, adopt root runs users created, release queued runs —
then write the rollup status.

Everything is level-based and idempotent: a downstream run's name is the exactly-once key of its
edge (creating it again answers AlreadyExists), adoption and release are merge patches, and the
status is written only when it changed. So the mesh may be planned on any event, and an operator
killed between two writes picks up where it left off.

A mesh is planned again when it changes, when one of its runs changes (label `atomesh.io/mesh`),
when an Agent changes, and on a slow timer (the budget's day rolling over). Pokes coalesce: while
one thread plans a mesh, further pokes only mark it dirty, and that thread plans once more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.common import Condition, dump
from atomesh.api.mesh import Mesh, MeshStatus
from atomesh.controller.agent import status_patch
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.reconciler import guarded
from atomesh.core.conditions import find
from atomesh.core.meshplan import RELEASE_PATCH, MeshPlan, plan_mesh, queued_patch
from atomesh.core.meshstatus import invalid_mesh_status, mesh_events
from atomesh.core.revision import describe_validation_error
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES

log = logging.getLogger(__name__)
RESYNC_SECONDS = 30.0  # the timer: budget windows roll over, and a missed event is made up for


def _agents(ctx: OperatorContext, namespace: str) -> dict[str, Agent]:
    agents = {}
    for item in ctx.kube.list(AGENTS, namespace):
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
    """Plans and applies meshes for one operator instance; one thread per mesh at a time."""

    def __init__(self, ctx: OperatorContext) -> None:
        self.ctx = ctx
        self._guard = threading.Lock()
        self._running: set[tuple[str, str]] = set()
        self._dirty: set[tuple[str, str]] = set()
        self._reported: dict[tuple[str, str], set[str]] = {}

    def poke(self, namespace: str, name: str) -> None:
        """Plan the mesh now, or have the thread planning it plan once more; raises what planning raised."""
        key = (namespace, name)
        with self._guard:
            if key in self._running:
                self._dirty.add(key)
                return
            self._running.add(key)
        try:
            while True:
                with self._guard:
                    self._dirty.discard(key)
                self.reconcile(namespace, name)
                with self._guard:
                    if key not in self._dirty:
                        return
        finally:
            with self._guard:
                self._running.discard(key)

    def poke_logged(self, namespace: str, name: str) -> None:
        """For event handlers: a failure is retried by the next event or the timer."""
        guarded(self.ctx, "mesh", f"{namespace}/{name}", lambda: self.poke(namespace, name), retried=False)

    def reconcile(self, namespace: str, name: str) -> None:
        ctx = self.ctx
        raw = ctx.kube.get(MESHES, namespace, name)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            with self._guard:
                self._reported.pop((namespace, name), None)
            return
        old_wire: dict[str, Any] = dict(raw.get("status") or {})
        try:
            mesh = Mesh.model_validate(raw)
        except ValidationError as exc:
            self._invalid(raw, old_wire, describe_validation_error(exc))
            return
        plan = plan_mesh(mesh, _agents(ctx, namespace), _runs(ctx, namespace, name), ctx.clock())
        self._apply(raw, namespace, plan)
        self._write(raw, old_wire, plan.status)

    def _apply(self, raw: Body, namespace: str, plan: MeshPlan) -> None:
        kube = self.ctx.kube
        for planned in plan.create:
            _, created = kube.create(AGENT_RUNS, planned.manifest(namespace))
            if created:
                detail = f" (queued: {planned.queued})" if planned.queued else ""
                detail = f" (invalid input: {planned.error})" if planned.error else detail
                edges = ", ".join(planned.edges) or planned.node
                post_event(raw, "Normal", c.RUN_CREATED, f"edge {edges} fired: created AgentRun {planned.name}{detail}")
        for adoption in plan.adopt:
            if kube.patch(AGENT_RUNS, namespace, adoption.run, adoption.patch()) is not None:
                detail = f" (queued: {adoption.queued})" if adoption.queued else ""
                post_event(
                    raw,
                    "Normal",
                    c.EXECUTION_STARTED,
                    f"AgentRun {adoption.run} started execution {adoption.execution} at node {adoption.node}{detail}",
                )
        for run in plan.release:
            if kube.patch(AGENT_RUNS, namespace, run, RELEASE_PATCH) is not None:
                post_event(raw, "Normal", c.RUN_RELEASED, f"released queued AgentRun {run}")
        for run, why in plan.requeue:
            kube.patch(AGENT_RUNS, namespace, run, queued_patch(why))
        messages = [
            f"execution {stop.execution}: node {stop.node} will not run: {stop.reason}" for stop in plan.stopped
        ]
        for message in self._new_reports(raw, "stopped", messages):
            post_event(raw, "Normal", c.BRANCH_STOPPED, message)
        if not _stalled(plan):  # a graph's problems are in the Stalled condition and its Event
            for message in self._new_reports(raw, "problem", list(plan.problems)):
                post_event(raw, "Warning", c.RUN_NOT_ADOPTED, message)

    def _new_reports(self, raw: Body, kind: str, messages: list[str]) -> list[str]:
        """Messages not reported before by this operator: level-based plans repeat them on every pass."""
        meta = raw.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        with self._guard:
            seen = self._reported.setdefault(key, set())
            fresh = [message for message in messages if f"{kind}:{message}" not in seen]
            seen.update(f"{kind}:{message}" for message in fresh)
        return fresh

    def _invalid(self, raw: Body, old_wire: Mapping[str, Any], message: str) -> None:
        try:
            previous = MeshStatus.model_validate(old_wire)
        except ValidationError:
            previous = MeshStatus()
        generation = (raw.get("metadata") or {}).get("generation")
        self._write(raw, old_wire, invalid_mesh_status(previous, generation, message, self.ctx.now()))

    def _write(self, raw: Body, old_wire: Mapping[str, Any], status: MeshStatus) -> None:
        meta = raw.get("metadata") or {}
        patch = status_patch(old_wire, dump(status))
        if not patch:
            return
        self.ctx.kube.patch_status(MESHES, meta.get("namespace", ""), meta.get("name", ""), patch)
        for event in mesh_events(_conditions(old_wire), status.conditions):
            post_event(raw, event.type, event.reason, event.message)


def _stalled(plan: MeshPlan) -> bool:
    stalled = find(list(plan.conditions), c.STALLED)
    return stalled is not None and stalled.status == c.TRUE


def _conditions(wire: Mapping[str, Any]) -> list[Condition]:
    result = []
    for item in wire.get("conditions") or []:
        try:
            result.append(Condition.model_validate(item))
        except ValidationError:
            continue
    return result


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

    @kopf.on.resume(k.GROUP, k.VERSION, k.PLURAL_MESHES, registry=registry)
    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_MESHES, registry=registry)
    @kopf.on.update(k.GROUP, k.VERSION, k.PLURAL_MESHES, field="spec", registry=registry)
    def mesh_changed(*, namespace: str | None, name: str, retry: int, **_: Any) -> None:
        ns = namespace or "default"
        guarded(ctx, "mesh", f"{ns}/{name}", lambda: meshes.poke(ns, name), retry=retry)

    @kopf.timer(
        k.GROUP, k.VERSION, k.PLURAL_MESHES, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS, registry=registry
    )
    def mesh_resync(*, namespace: str | None, name: str, **_: Any) -> None:
        meshes.poke_logged(namespace or "default", name)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, labels={k.LABEL_MESH: kopf.PRESENT}, registry=registry)
    def mesh_run_event(*, labels: kopf.Labels, namespace: str | None, **_: Any) -> None:
        """A run of the mesh changed (or went away): its edges may fire, a slot may be free."""
        meshes.poke_logged(namespace or "default", labels[k.LABEL_MESH])

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    def mesh_agent_event(*, name: str, namespace: str | None, **_: Any) -> None:
        """An Agent appeared, became Ready or went away: the meshes using it change readiness."""
        ns = namespace or "default"

        def poke_users() -> None:
            for mesh in meshes_using(ctx, ns, name):
                meshes.poke_logged(ns, mesh)

        guarded(ctx, "mesh", f"meshes using Agent {ns}/{name}", poke_users, retried=False)
