"""A mesh execution as a graph: columns by depth, node states from the execution's runs, edge states."""

from __future__ import annotations

from atomesh.api import AgentRun, Mesh
from atomesh.api.constants import LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.core.supervision_mesh import mesh_graph


def mesh() -> Mesh:
    return Mesh.model_validate(
        {
            "metadata": {"name": "release", "namespace": "team-a"},
            "spec": {
                "agents": [
                    {"name": "plan", "agentRef": {"name": "planner"}},
                    {"name": "code", "agentRef": {"name": "coder"}},
                    {"name": "docs", "agentRef": {"name": "writer"}},
                    {"name": "notes", "agentRef": {"name": "writer"}},
                ],
                "edges": [
                    {"from": "plan", "to": "code"},
                    {"from": "plan", "to": "docs", "when": "completed"},
                    {"from": "code", "to": "notes"},
                ],
            },
            "status": {"lastExecution": "e2"},
        }
    )


def run(name: str, node: str, execution: str, phase: str, created: str = "2026-11-24T10:00:00Z") -> AgentRun:
    labels = {LABEL_MESH: "release", LABEL_MESH_NODE: node, LABEL_MESH_EXECUTION: execution}
    return AgentRun.model_validate(
        {
            "metadata": {"name": name, "namespace": "team-a", "labels": labels, "creationTimestamp": created},
            "spec": {"agentRef": {"name": "x"}},
            "status": {"phase": phase, "review": {"url": f"https://gh/{name}"}},
        }
    )


def test_nodes_are_placed_by_depth_and_carry_their_runs_state() -> None:
    runs = [
        run("old-plan", "plan", "e1", "Failed", "2026-11-23T10:00:00Z"),
        run("plan-1", "plan", "e2", "Succeeded"),
        run("code-1", "code", "e2", "AwaitingReview"),
    ]
    graph = mesh_graph(mesh(), runs)
    assert graph.execution == "e2"
    assert graph.executions == ["e2", "e1"]
    nodes = {node.name: node for node in graph.nodes}
    assert [nodes[name].x for name in ("plan", "code", "docs", "notes")] == [16, 306, 306, 596]
    assert nodes["code"].y != nodes["docs"].y
    assert (nodes["plan"].run, nodes["plan"].phase, nodes["code"].pr_url) == (
        "plan-1",
        "Succeeded",
        "https://gh/code-1",
    )
    assert (nodes["notes"].run, nodes["notes"].phase) == (None, None)
    edges = {(edge.source, edge.target): edge for edge in graph.edges}
    assert edges[("plan", "code")].state == "fired"
    assert edges[("plan", "docs")].state == "waiting"
    assert edges[("code", "notes")].state == "waiting"
    assert edges[("code", "notes")].waits_on == "code-1 (AwaitingReview): its pull request to be merged"
    assert all(edge.x2 > edge.x1 for edge in graph.edges)


def test_an_accepted_edge_after_a_rejected_run_is_stopped() -> None:
    graph = mesh_graph(mesh(), [run("plan-1", "plan", "e2", "Rejected")], "e2")
    edges = {(edge.source, edge.target): edge for edge in graph.edges}
    assert (edges[("plan", "code")].state, edges[("plan", "code")].waits_on) == ("stopped", "plan-1 ended Rejected")
