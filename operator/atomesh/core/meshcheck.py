"""Whether a mesh can run: its graph (core.graph), its edge expressions and its Agents.

`graph.validate_graph` checks edge expressions with the narrower grammar of `core.validation`
(`${upstream.<input|artifact|review>.<key>}`); the planner supports more (`${upstream.run}`,
`${upstream.node}`, `${upstreams.<node>.…}` for fan-in), so expression errors come from
`core.meshexpr` here instead, checked against the edge's actual upstream nodes.
"""

from __future__ import annotations

from collections.abc import Mapping

from atomesh.api.agent import Agent
from atomesh.api.mesh import MeshSpec
from atomesh.core.graph import describe, upstreams, validate_graph
from atomesh.core.meshexpr import check_template
from atomesh.core.validation import format_path


def _is_expression_error(loc: tuple[str | int, ...]) -> bool:
    return len(loc) >= 4 and loc[:2] == ("spec", "edges") and loc[3] == "input"


def graph_problems(spec: MeshSpec, agents: Mapping[str, Agent]) -> list[str]:
    """Every reason the mesh cannot run, each naming the field and the edge or node; empty when it can."""
    problems = [
        f"{error.path}: {error.message}" for error in validate_graph(spec) if not _is_expression_error(error.loc)
    ]
    into = upstreams(spec)
    for index, edge in enumerate(spec.edges):
        sources = [upstream.from_ for upstream in into.get(edge.to, [])] or [edge.from_]
        for key in sorted(edge.input):
            problem = check_template(edge.input[key], sources)
            if problem:
                path = format_path(("spec", "edges", index, "input", key))
                problems.append(f"{path}: edge {describe(edge)}: {problem}")
    for index, node in enumerate(spec.agents):
        if node.agent_ref.name not in agents:
            path = format_path(("spec", "agents", index, "agentRef", "name"))
            problems.append(
                f"{path}: node {node.name!r}: Agent {node.agent_ref.name!r} does not exist in this namespace"
            )
    return problems
