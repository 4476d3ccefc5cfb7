"""A mesh execution as a drawable graph: each node placed in a column by its depth, with the state of
its run in that execution, and each edge saying whether it has fired or what it waits on.

Pure. Invariants:
- Every node of the spec is drawn exactly once, even one the execution has not reached (state None),
  and every valid edge once; a graph with a cycle (which the operator refuses) is drawn in declaration
  order rather than not at all.
- A node's column is its longest distance from a root, so every edge points to a later column.
- An edge is `fired` when its downstream run exists in the execution, `waiting` when its upstream run
  has not yet reached the edge's state (`accepted`: merged; `completed`: any terminal phase), and
  `stopped` when the upstream ended in a way that will never satisfy it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from atomesh.api.agentrun import TERMINAL_PHASES, AgentRun
from atomesh.api.mesh import Mesh
from atomesh.core.graph import CycleError, topological_order, upstreams
from atomesh.core.supervision_facts import RunFacts, as_facts

COLUMN_WIDTH = 290
ROW_HEIGHT = 96
NODE_WIDTH = 190
NODE_HEIGHT = 64
MARGIN = 16

NEVER = datetime.min.replace(tzinfo=UTC)

EdgeState = Literal["fired", "waiting", "stopped"]


@dataclass(frozen=True)
class NodeView:
    name: str
    agent: str
    x: int
    y: int
    run: str | None
    phase: str | None
    reason: str | None
    pr_url: str | None


@dataclass(frozen=True)
class EdgeView:
    source: str
    target: str
    when: str
    state: EdgeState
    waits_on: str  # who or what the edge waits on, for a person
    x1: int
    y1: int
    x2: int
    y2: int


@dataclass(frozen=True)
class MeshGraph:
    execution: str | None
    executions: list[str]
    nodes: list[NodeView]
    edges: list[EdgeView]
    width: int
    height: int


def executions(mesh: Mesh, runs: Iterable[RunFacts]) -> list[str]:
    """The mesh's execution ids seen in `runs`, newest first (by the earliest run of each)."""
    first: dict[str, datetime] = {}
    for run in runs:
        execution = run.mesh_execution
        if run.mesh != mesh.metadata.name or run.namespace != (mesh.metadata.namespace or "") or not execution:
            continue
        created = run.created or NEVER
        first[execution] = min(first.get(execution, created), created)
    return sorted(first, key=lambda execution: (first[execution], execution), reverse=True)


def _columns(mesh: Mesh) -> dict[str, int]:
    try:
        order = topological_order(mesh.spec)
    except CycleError:
        return {node.name: 0 for node in mesh.spec.agents}
    incoming = upstreams(mesh.spec)
    column: dict[str, int] = {}
    for name in order:
        column[name] = max((column[edge.from_] + 1 for edge in incoming[name]), default=0)
    return column


def _edge_state(
    when: str, upstream: RunFacts | None, downstream: RunFacts | None, source: str
) -> tuple[EdgeState, str]:
    if downstream is not None:
        return "fired", ""
    if upstream is None:
        return "waiting", f"a run of {source}"
    if upstream.phase not in TERMINAL_PHASES:
        need = "its pull request to be merged" if when == "accepted" else "it to finish"
        return "waiting", f"{upstream.name} ({upstream.phase}): {need}"
    if when == "accepted" and upstream.phase != "Succeeded":
        return "stopped", f"{upstream.name} ended {upstream.phase}"
    return "waiting", f"the mesh to start the run after {upstream.name}"


def mesh_graph(mesh: Mesh, runs: Iterable[AgentRun | RunFacts], execution: str | None = None) -> MeshGraph:
    """The graph of `execution` (default: the mesh's latest) with each node's run state."""
    namespace = mesh.metadata.namespace or ""
    mine = [
        run
        for run in (as_facts(found) for found in runs)
        if run.mesh == mesh.metadata.name and run.namespace == namespace
    ]
    seen = executions(mesh, mine)
    chosen = execution or (mesh.status.last_execution if mesh.status else None) or (seen[0] if seen else None)
    by_node: dict[str, RunFacts] = {}
    for run in mine:
        if chosen and run.mesh_execution == chosen:
            node = run.mesh_node
            # A revision run shares its node; the newest run is the node's state.
            if node not in by_node or (run.created or NEVER) >= (by_node[node].created or NEVER):
                by_node[node] = run
    column = _columns(mesh)
    rows: dict[int, int] = {}
    nodes: dict[str, NodeView] = {}
    for spec_node in mesh.spec.agents:
        col = column.get(spec_node.name, 0)
        row = rows.get(col, 0)
        rows[col] = row + 1
        node_run = by_node.get(spec_node.name)
        nodes[spec_node.name] = NodeView(
            name=spec_node.name,
            agent=spec_node.agent_ref.name,
            x=MARGIN + col * COLUMN_WIDTH,
            y=MARGIN + row * ROW_HEIGHT,
            run=node_run.name if node_run else None,
            phase=node_run.phase if node_run else None,
            reason=(node_run.reason or None) if node_run else None,
            pr_url=node_run.pr_url if node_run else None,
        )
    edges = []
    for edge in mesh.spec.edges:
        source, target = nodes.get(edge.from_), nodes.get(edge.to)
        if source is None or target is None or source is target:
            continue
        state, waits_on = _edge_state(edge.when, by_node.get(edge.from_), by_node.get(edge.to), edge.from_)
        edges.append(
            EdgeView(
                source=edge.from_,
                target=edge.to,
                when=edge.when,
                state=state,
                waits_on=waits_on,
                x1=source.x + NODE_WIDTH,
                y1=source.y + NODE_HEIGHT // 2,
                x2=target.x,
                y2=target.y + NODE_HEIGHT // 2,
            )
        )
    width = MARGIN * 2 + (max(column.values(), default=0)) * COLUMN_WIDTH + NODE_WIDTH
    height = MARGIN * 2 + max(rows.values(), default=1) * ROW_HEIGHT
    return MeshGraph(chosen, seen, list(nodes.values()), edges, width, height)
