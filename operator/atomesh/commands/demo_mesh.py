"""`atomesh dev --demo --mesh NAME`: a mesh's execution through the whole loop, printed step by step."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from atomesh.api.constants import LABEL_MESH
from atomesh.api.mesh import Mesh
from atomesh.commands.demo import Demo, DemoFailed, demo_run
from atomesh.commands.examples import DEMO_INPUT
from atomesh.core.graph import roots, topological_order
from atomesh.core.meshplan import mesh_run_name, new_execution_id
from atomesh.core.runfactory import run_name
from atomesh.kube.resources import AGENT_RUNS, MESHES


class MeshDemo(Demo):
    """`--mesh NAME`: apply the mesh's Agents and the Mesh, start its root node, then follow each node's
    run in graph order, merging every pull request as the reviewer would, until all have Succeeded."""

    done = "every node's change is merged into main"

    def __init__(self, *args: Any, mesh: dict[str, Any], agents: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mesh_manifest = mesh
        self.agents = agents

    def _run(self) -> None:
        for manifest in self.agents:
            self.manifest = manifest
            self.wait_ready(self.apply_agent())
        mesh = self.apply_mesh()
        root = roots(mesh.spec)[0]
        agent = next(node.agent_ref.name for node in mesh.spec.agents if node.name == root)
        seed = self.start(mesh, root, agent)
        execution = new_execution_id(mesh.metadata.name, seed)
        for node in topological_order(mesh.spec):
            name = seed if node == root else mesh_run_name(mesh.metadata.name, execution, node)
            if node != root:
                run = self.wait(f"the mesh to start node {node}", self.getter(name))
                trigger = (run.get("spec") or {}).get("trigger") or {}
                self.say(f"node {node}: AgentRun {name} created by the mesh (trigger {trigger.get('source')})")
            self.follow(name)
        self.say(f"every node of mesh {mesh.metadata.name} has Succeeded (execution {execution})")

    def getter(self, name: str) -> Callable[[], dict[str, Any] | None]:
        return lambda: self.kube.get(AGENT_RUNS, self.namespace, name)

    def apply_mesh(self) -> Mesh:
        mesh = Mesh.model_validate(self.mesh_manifest)
        name = mesh.metadata.name
        body = {**self.mesh_manifest, "metadata": {**self.mesh_manifest["metadata"], "namespace": self.namespace}}
        _, created = self.kube.create(MESHES, body)
        if not created:
            self.kube.patch(MESHES, self.namespace, name, {"spec": body["spec"]})
        edges = ", ".join(f"{edge.from_} -> {edge.to} ({edge.when})" for edge in mesh.spec.edges)
        self.say(f"applied Mesh {name} (edges: {edges})")

        def ready() -> dict[str, Any] | None:
            found = self.kube.get(MESHES, self.namespace, name) or {}
            status = found.get("status") or {}
            if status.get("observedGeneration") != found.get("metadata", {}).get("generation"):
                return None
            conditions = {c.get("type"): c for c in status.get("conditions") or []}
            stalled = conditions.get("Stalled") or {}
            if stalled.get("status") == "True":
                raise DemoFailed(f"Mesh {name} is Stalled: {stalled.get('message')}")
            return status if (conditions.get("Ready") or {}).get("status") == "True" else None

        status = self.wait(f"Mesh {name} to be Ready", ready)
        self.say(f"Mesh {name} is Ready ({status.get('agentsSummary')} agents ready)")
        return mesh

    def start(self, mesh: Mesh, node: str, agent: str) -> str:
        """A user's way to start an execution: an AgentRun of a root node labelled with the mesh."""
        name = run_name(mesh.metadata.name, f"-{secrets.token_hex(3)}")
        labels = {LABEL_MESH: mesh.metadata.name}
        self.kube.create(AGENT_RUNS, demo_run(name, agent, self.namespace, DEMO_INPUT, labels))
        self.say(
            f"started mesh {mesh.metadata.name}: AgentRun {name} for root node {node} "
            f"(input issue {DEMO_INPUT['issue']})"
        )
        return name
