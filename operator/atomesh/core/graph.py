"""The mesh graph: nodes are uses of Agents, edges fire a downstream run when an upstream run is done.

Pure functions of a MeshSpec. `validate_graph` reports every problem with a loc relative to the
Mesh (`spec.edges[2].to`) and a message naming the edge or cycle; the other functions assume a
valid graph (they ignore edges to unknown nodes and, for ordering, raise on a cycle).
"""

from __future__ import annotations

from atomesh.api.mesh import MeshEdge, MeshSpec
from atomesh.core.meshexpr import check_template
from atomesh.core.validation import FieldError

GraphError = FieldError


class CycleError(ValueError):
    """The graph has a cycle; the message names it."""


def describe(edge: MeshEdge) -> str:
    return f"{edge.from_} -> {edge.to}"


def node_names(spec: MeshSpec) -> list[str]:
    """Node names in declaration order, each once."""
    return list(dict.fromkeys(node.name for node in spec.agents))


def validate_graph(spec: MeshSpec) -> list[GraphError]:
    """Duplicate nodes, edges naming unknown nodes, self-edges, duplicate edges, bad expressions, cycles."""
    errors: list[GraphError] = []
    first: dict[str, int] = {}
    for index, node in enumerate(spec.agents):
        if node.name in first:
            errors.append(
                GraphError(
                    ("spec", "agents", index, "name"),
                    f"duplicate node name {node.name!r} (also agents[{first[node.name]}]): node names must be unique",
                )
            )
        first.setdefault(node.name, index)
    known = ", ".join(first)
    seen_edges: dict[tuple[str, str], int] = {}
    for index, edge in enumerate(spec.edges):
        loc = ("spec", "edges", index)
        for field, name in (("from", edge.from_), ("to", edge.to)):
            if name not in first:
                errors.append(
                    GraphError((*loc, field), f"edge {describe(edge)}: unknown node {name!r}; nodes are: {known}")
                )
        if edge.from_ == edge.to:
            errors.append(GraphError((*loc, "to"), f"edge {describe(edge)} points at its own node; remove it"))
        key = (edge.from_, edge.to)
        if key in seen_edges:
            errors.append(
                GraphError(loc, f"duplicate edge {describe(edge)} (also edges[{seen_edges[key]}]): merge their input")
            )
        seen_edges.setdefault(key, index)
        sources = sorted({other.from_ for other in spec.edges if other.to == edge.to} or {edge.from_})
        for name, value in sorted(edge.input.items()):
            problem = check_template(value, sources)
            if problem:
                errors.append(GraphError((*loc, "input", name), f"edge {describe(edge)}: {problem}"))
    cycle = find_cycle(spec)
    if cycle is not None:
        index, path = cycle
        errors.append(
            GraphError(("spec", "edges", index), f"edges form a cycle: {' -> '.join(path)}; a mesh must be acyclic")
        )
    return errors


def _valid_edges(spec: MeshSpec) -> list[tuple[int, MeshEdge]]:
    """Edges between known, distinct nodes (the ones ordering and cycle detection consider)."""
    names = set(node_names(spec))
    return [
        (index, edge)
        for index, edge in enumerate(spec.edges)
        if edge.from_ in names and edge.to in names and edge.from_ != edge.to
    ]


def upstreams(spec: MeshSpec) -> dict[str, list[MeshEdge]]:
    """Node -> edges into it (empty for roots), in declaration order."""
    result: dict[str, list[MeshEdge]] = {name: [] for name in node_names(spec)}
    for _, edge in _valid_edges(spec):
        result[edge.to].append(edge)
    return result


def downstreams(spec: MeshSpec) -> dict[str, list[MeshEdge]]:
    """Node -> edges out of it (empty for leaves), in declaration order."""
    result: dict[str, list[MeshEdge]] = {name: [] for name in node_names(spec)}
    for _, edge in _valid_edges(spec):
        result[edge.from_].append(edge)
    return result


def roots(spec: MeshSpec) -> list[str]:
    """Nodes without upstream edges: where a mesh execution starts."""
    return [name for name, edges in upstreams(spec).items() if not edges]


def find_cycle(spec: MeshSpec) -> tuple[int, list[str]] | None:
    """The first cycle found: (index of the edge closing it, node names from start back to start)."""
    out: dict[str, list[tuple[int, MeshEdge]]] = {name: [] for name in node_names(spec)}
    for index, edge in _valid_edges(spec):
        out[edge.from_].append((index, edge))
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(name: str) -> tuple[int, list[str]] | None:
        state[name] = 1
        path.append(name)
        for index, edge in out[name]:
            if state.get(edge.to) == 1:
                return index, [*path[path.index(edge.to) :], edge.to]
            if edge.to not in state and (found := visit(edge.to)) is not None:
                return found
        path.pop()
        state[name] = 2
        return None

    for name in out:
        if name not in state and (found := visit(name)) is not None:
            return found
    return None


def topological_order(spec: MeshSpec) -> list[str]:
    """Nodes so that every edge goes forward; ties keep declaration order. CycleError on a cycle."""
    incoming = {name: len(edges) for name, edges in upstreams(spec).items()}
    outgoing = downstreams(spec)
    position = {name: index for index, name in enumerate(incoming)}
    ready = [name for name, count in incoming.items() if count == 0]
    order: list[str] = []
    while ready:
        ready.sort(key=position.__getitem__)
        name = ready.pop(0)
        order.append(name)
        for edge in outgoing[name]:
            incoming[edge.to] -= 1
            if incoming[edge.to] == 0:
                ready.append(edge.to)
    if len(order) != len(incoming):
        cycle = find_cycle(spec)
        raise CycleError(f"edges form a cycle: {' -> '.join(cycle[1]) if cycle else '?'}")
    return order
