"""The mesh graph: validation messages name the edge or cycle; order and neighbours are deterministic."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.api.mesh import MeshSpec
from atomesh.core.graph import (
    CycleError,
    downstreams,
    find_cycle,
    roots,
    topological_order,
    upstreams,
    validate_graph,
)


def mesh(nodes: list[str], edges: list[tuple[str, str]], **extra: Any) -> MeshSpec:
    return MeshSpec.model_validate(
        {
            "agents": [{"name": n, "agentRef": {"name": "agent"}} for n in nodes],
            "edges": [{"from": a, "to": b, **extra} for a, b in edges],
        }
    )


def test_valid_chain() -> None:
    spec = mesh(["triage", "fix", "notes"], [("triage", "fix"), ("fix", "notes")])
    assert validate_graph(spec) == []
    assert topological_order(spec) == ["triage", "fix", "notes"]
    assert roots(spec) == ["triage"]
    assert [e.from_ for e in upstreams(spec)["fix"]] == ["triage"]
    assert [e.to for e in downstreams(spec)["fix"]] == ["notes"]
    assert downstreams(spec)["notes"] == []


def test_fan_out_and_fan_in_keep_declaration_order() -> None:
    spec = mesh(["d", "b", "c", "a"], [("d", "a"), ("b", "a"), ("c", "a")])
    assert topological_order(spec) == ["d", "b", "c", "a"]
    assert [e.from_ for e in upstreams(spec)["a"]] == ["d", "b", "c"]
    assert roots(spec) == ["d", "b", "c"]


def test_cycle_is_named_on_the_closing_edge() -> None:
    spec = mesh(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    (error,) = validate_graph(spec)
    assert error.path == "spec.edges[2]"
    assert "a -> b -> c -> a" in error.message
    assert find_cycle(spec) == (2, ["a", "b", "c", "a"])
    with pytest.raises(CycleError, match="a -> b -> c -> a"):
        topological_order(spec)


def test_unknown_node_names_the_edge_and_the_known_nodes() -> None:
    (error,) = validate_graph(mesh(["a", "b"], [("a", "x")]))
    assert error.path == "spec.edges[0].to"
    assert error.message == "edge a -> x: unknown node 'x'; nodes are: a, b"


def test_self_edge_duplicate_node_and_duplicate_edge() -> None:
    spec = MeshSpec.model_validate(
        {
            "agents": [{"name": "a", "agentRef": {"name": "x"}}, {"name": "a", "agentRef": {"name": "y"}}],
            "edges": [{"from": "a", "to": "a"}, {"from": "a", "to": "a"}],
        }
    )
    paths = [e.path for e in validate_graph(spec)]
    assert paths == ["spec.agents[1].name", "spec.edges[0].to", "spec.edges[1].to", "spec.edges[1]"]
    assert topological_order(spec) == ["a"]  # self-edges do not block ordering


def test_bad_edge_expression_is_reported() -> None:
    (error,) = validate_graph(mesh(["a", "b"], [("a", "b")], input={"x": "${upstream.nope.y}"}))
    assert error.path == "spec.edges[0].input.x"


def test_cycle_beside_a_valid_branch() -> None:
    spec = mesh(["root", "a", "b"], [("root", "a"), ("a", "b"), ("b", "a")])
    assert find_cycle(spec) == (2, ["a", "b", "a"])
