"""Whether a mesh can run: its graph and edge expressions (core.graph), its Agents, and whether what
its edges map fits the input schema of the Agent downstream.

What an edge maps is known only in part before a run: a value that is exactly one `${…}` expression
takes the type of what it reads, so only its key is checked; a value with no expression is a literal
string and is checked against the key's schema. Into a node with several upstream edges the inputs
are merged, so a required key may come from any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.mesh import MeshSpec
from atomesh.core.graph import validate_graph
from atomesh.core.meshexpr import EXPRESSION
from atomesh.core.validation import FieldError, check_input, check_timezone, format_path


def graph_problems(spec: MeshSpec, agents: Mapping[str, Agent]) -> list[str]:
    """Every reason the mesh cannot run, each naming the field and the edge or node; empty when it can."""
    problems = [f"{error.path}: {error.message}" for error in validate_graph(spec)]
    if spec.budget is not None:
        problems += [
            f"{format_path(e.loc)}: {e.message}"
            for e in check_timezone(spec.budget.timezone, ("spec", "budget", "timezone"))
        ]
    for index, node in enumerate(spec.agents):
        if node.agent_ref.name not in agents:
            path = format_path(("spec", "agents", index, "agentRef", "name"))
            problems.append(
                f"{path}: node {node.name!r}: Agent {node.agent_ref.name!r} does not exist in this namespace"
            )
    specs = {name: agent.spec for name, agent in agents.items()}
    problems += [f"{error.path}: {error.message}" for error in edge_input_problems(spec, specs)]
    return problems


def edge_input_problems(spec: MeshSpec, agents: Mapping[str, AgentSpec]) -> list[FieldError]:
    """Edge inputs that cannot fit the downstream Agent's input schema (unknown, missing or mistyped keys)."""
    errors: list[FieldError] = []
    agent_of = {node.name: node.agent_ref.name for node in spec.agents}
    incoming: dict[str, list[int]] = {}
    for index, edge in enumerate(spec.edges):
        incoming.setdefault(edge.to, []).append(index)
    for node, indexes in incoming.items():
        agent = agent_of.get(node, "")
        downstream = agents.get(agent)
        if downstream is None:
            continue  # a missing node or Agent is reported on its own
        schema: dict[str, Any] = downstream.input.json_schema
        properties: Mapping[str, Any] = schema.get("properties") or {}
        closed = schema.get("additionalProperties") is False
        mapped: set[str] = set()
        for index in indexes:
            for key, template in spec.edges[index].input.items():
                mapped.add(key)
                loc = ("spec", "edges", index, "input", key)
                if closed and key not in properties:
                    allowed = ", ".join(sorted(properties)) or "none"
                    errors.append(FieldError(loc, f"Agent {agent!r} takes no input {key!r}; it takes: {allowed}"))
                elif key in properties and not EXPRESSION.search(template):
                    errors += check_input({key: template}, {**schema, "required": []}, loc[:-1])
        missing = [key for key in schema.get("required") or [] if key not in mapped]
        if missing:
            first = ("spec", "edges", indexes[0], "input")
            errors.append(
                FieldError(
                    first, f"no edge into {node!r} maps its Agent's required input {', '.join(map(repr, missing))}"
                )
            )
    return errors
