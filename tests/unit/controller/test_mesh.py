"""The Mesh controller's plan-apply pair on FakeKube: adoption, an edge firing exactly once, reports
made once, an invalid Mesh stalled, and a mesh that is gone."""

from __future__ import annotations

from typing import Any

from controller_fakes import NAMESPACE, READY, Events, agent_manifest, operator_context, writes_to

from atomesh.api import conditions as c
from atomesh.api.constants import LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.controller.mesh import MeshReconciler
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES


def mesh_manifest(edges: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Mesh",
        "metadata": {"name": "release", "namespace": NAMESPACE},
        "spec": {
            "agents": [{"name": node, "agentRef": {"name": node}} for node in ("triage", "fix")],
            "edges": edges,
            **spec,
        },
    }


def root_run(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {LABEL_MESH: "release"}},
        "spec": {"agentRef": {"name": "triage"}},
    }


def cluster(edges: list[dict[str, Any]]) -> tuple[MeshReconciler, FakeKube, Events]:
    events = Events()
    ctx, kube = operator_context(events)
    for name in ("triage", "fix"):
        kube.create(AGENTS, agent_manifest(name))
        kube.patch_status(AGENTS, NAMESPACE, name, READY)
    kube.create(MESHES, mesh_manifest(edges))
    return MeshReconciler(ctx), kube, events


def test_a_root_run_is_adopted_and_its_edge_fires_exactly_once() -> None:
    meshes, kube, events = cluster([{"from": "triage", "to": "fix", "when": "completed"}])
    kube.create(AGENT_RUNS, root_run("triage-1"))
    meshes.reconcile(NAMESPACE, "release")
    labels = (kube.get(AGENT_RUNS, NAMESPACE, "triage-1") or {})["metadata"]["labels"]
    assert labels[LABEL_MESH_NODE] == "triage"
    execution = labels[LABEL_MESH_EXECUTION]
    assert c.EXECUTION_STARTED in events.reasons()
    status = (kube.get(MESHES, NAMESPACE, "release") or {})["status"]
    ready = next(cond for cond in status["conditions"] if cond["type"] == c.READY)
    assert ready["status"] == c.TRUE

    kube.patch_status(AGENT_RUNS, NAMESPACE, "triage-1", {"phase": "Failed", "reason": c.STEP_FAILED})
    meshes.reconcile(NAMESPACE, "release")
    meshes.reconcile(NAMESPACE, "release")  # planned again, as on every event: nothing new
    fix = [run for run in kube.list(AGENT_RUNS, NAMESPACE) if run["metadata"]["name"] != "triage-1"]
    assert len(fix) == 1
    assert fix[0]["metadata"]["labels"][LABEL_MESH_EXECUTION] == execution
    assert fix[0]["metadata"]["namespace"] == NAMESPACE
    assert [verb for verb, _ in writes_to(kube, "agentruns")].count("create") == 2
    assert events.reasons().count(c.RUN_CREATED) == 1
    mesh_writes = writes_to(kube, "meshes")
    meshes.reconcile(NAMESPACE, "release")
    assert writes_to(kube, "meshes") == mesh_writes  # the status is already as planned: no write


def test_a_stopped_branch_is_reported_once_per_operator() -> None:
    meshes, kube, events = cluster([{"from": "triage", "to": "fix", "when": "accepted"}])
    kube.create(AGENT_RUNS, root_run("triage-1"))
    meshes.reconcile(NAMESPACE, "release")
    kube.patch_status(AGENT_RUNS, NAMESPACE, "triage-1", {"phase": "Failed", "reason": c.STEP_FAILED})
    for _ in range(3):
        meshes.reconcile(NAMESPACE, "release")
    stopped = [event for event in events if event[2] == c.BRANCH_STOPPED]
    assert len(stopped) == 1
    assert "node fix will not run" in stopped[0][3]
    assert len(kube.list(AGENT_RUNS, NAMESPACE)) == 1


def test_an_invalid_mesh_is_stalled_with_the_field() -> None:
    events = Events()
    ctx, kube = operator_context(events)
    kube.create(MESHES, {**mesh_manifest([]), "spec": {"agents": "not a list"}})
    MeshReconciler(ctx).reconcile(NAMESPACE, "release")
    status = (kube.get(MESHES, NAMESPACE, "release") or {})["status"]
    stalled = next(cond for cond in status["conditions"] if cond["type"] == c.STALLED)
    assert (stalled["status"], stalled["reason"]) == (c.TRUE, c.INVALID_SPEC)
    assert "spec.agents" in stalled["message"]
    assert (c.INVALID_SPEC, "Warning") in [(reason, type_) for _, type_, reason, _ in events]


def test_a_mesh_that_is_gone_is_not_planned() -> None:
    events = Events()
    ctx, kube = operator_context(events)
    MeshReconciler(ctx).reconcile(NAMESPACE, "release")
    assert (kube.writes, list(events)) == ([], [])
