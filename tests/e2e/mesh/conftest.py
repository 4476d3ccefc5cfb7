"""Mesh end to end: the fixtures of tests/e2e/operator (stand-in runner image) and tests/e2e/review
(the real runner, the GitHub and model emulators, the review loop), and mesh helpers.

A module uses one family: its stack (API server emulator, kubelet, operator, and for the review
family the GitHub emulator) is shared by its tests, each in its own namespace."""

from __future__ import annotations

from typing import Any

from atomesh.core.meshplan import mesh_run_name, new_execution_id
from tests.e2e.operator.conftest import cluster, operator, stack
from tests.e2e.review.conftest import review_cluster, review_operator, review_stack

__all__ = ["cluster", "operator", "review_cluster", "review_operator", "review_stack", "stack"]


def mesh_manifest(name: str, nodes: dict[str, str], edges: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    """A Mesh of `nodes` (node → Agent) and `edges` ({from, to, on?, input?})."""
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Mesh",
        "metadata": {"name": name},
        "spec": {
            "agents": [{"name": node, "agentRef": {"name": agent}} for node, agent in nodes.items()],
            "edges": edges,
            **spec,
        },
    }


def root_run(name: str, mesh: str, agent: str, **input_: Any) -> dict[str, Any]:
    """How a user starts a mesh execution: an AgentRun of a root node, labelled with the mesh."""
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name, "labels": {"atomesh.io/mesh": mesh}},
        "spec": {"agentRef": {"name": agent}, "input": input_},
    }


def node_run(mesh: str, root: str, node: str) -> str:
    """The one name node `node` can have in the execution started by the root run `root`."""
    return mesh_run_name(mesh, new_execution_id(mesh, root), node)
