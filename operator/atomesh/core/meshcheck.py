"""Whether a mesh can run: its graph and edge expressions (core.graph) and its Agents."""

from __future__ import annotations

from collections.abc import Mapping

from atomesh.api.agent import Agent
from atomesh.api.mesh import MeshSpec
from atomesh.core.graph import validate_graph
from atomesh.core.validation import format_path


def graph_problems(spec: MeshSpec, agents: Mapping[str, Agent]) -> list[str]:
    """Every reason the mesh cannot run, each naming the field and the edge or node; empty when it can."""
    problems = [f"{error.path}: {error.message}" for error in validate_graph(spec)]
    for index, node in enumerate(spec.agents):
        if node.agent_ref.name not in agents:
            path = format_path(("spec", "agents", index, "agentRef", "name"))
            problems.append(
                f"{path}: node {node.name!r}: Agent {node.agent_ref.name!r} does not exist in this namespace"
            )
    return problems
