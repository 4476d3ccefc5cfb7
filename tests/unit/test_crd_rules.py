"""The CEL rules of the atomesh CRDs (api/rules.py) and `atomesh lint` agree: every lint corpus mistake a rule
covers is also rejected by the API server (the emulator, which evaluates the rules as kube-apiserver does), at the
field the rule names and with its message; valid manifests and the example agents pass."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.crd_rules import COVERED

from atomesh.api import rules
from atomesh.api.crd import build_crds
from atomesh.devstack.kube import builtins
from atomesh.devstack.kube.cluster import Cluster
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.resources import Registry, ResourceInfo
from atomesh.devstack.kube.store import Store

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "lint_corpus"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    registry = Registry()
    for info in builtins.builtin_resources():
        registry.add(info)
    cluster = Cluster(Store(history_limit=1000), registry)
    namespaces = registry.get("", "v1", "namespaces")
    crds = registry.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert namespaces is not None
    assert crds is not None
    cluster.create(namespaces, "", {"metadata": {"name": "default"}})
    for crd in build_crds().values():
        cluster.create(crds, "", copy.deepcopy(crd))
    return cluster


def _info(cluster: Cluster, kind: str) -> ResourceInfo:
    plural = {
        "Agent": "agents",
        "Mesh": "meshes",
        "AgentRun": "agentruns",
        "Context": "contexts",
        "Budget": "budgets",
    }[kind]
    info = cluster.info_for(("atomesh.io", plural))
    assert info is not None
    return info


def _create(cluster: Cluster, doc: dict[str, Any], name: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc.setdefault("metadata", {})["name"] = name
    doc["metadata"].pop("namespace", None)  # one namespace is enough here
    doc["metadata"].pop("generateName", None)
    return cluster.create(_info(cluster, doc["kind"]), "default", doc)


def test_every_rule_is_covered_by_a_lint_corpus_case_or_a_test() -> None:
    assert all((CORPUS / "invalid" / name).is_file() for name in COVERED)


@pytest.mark.parametrize("case", sorted(COVERED))
def test_lint_corpus_mistakes_are_rejected_by_the_api_server(cluster: Cluster, case: str) -> None:
    field, text = COVERED[case]
    (doc,) = _documents(CORPUS / "invalid" / case)
    with pytest.raises(ApiError) as caught:
        _create(cluster, doc, case.removesuffix(".yaml"))
    causes = caught.value.details["causes"]
    assert any(c["field"] == field and text in c["message"] for c in causes), causes


@pytest.mark.parametrize("path", sorted((CORPUS / "valid").glob("*.yaml")) + sorted((REPO / "agents").rglob("*.yaml")))
def test_valid_manifests_pass_the_rules(cluster: Cluster, path: Path) -> None:
    for index, doc in enumerate(_documents(path)):
        if doc.get("apiVersion") == "atomesh.io/v1alpha1":
            _create(cluster, doc, f"{path.stem}-{index}".lower().replace("_", "-"))


def test_agent_ref_and_revision_of_are_immutable(cluster: Cluster) -> None:
    info = _info(cluster, "AgentRun")
    run = {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "spec": {"agentRef": {"name": "a"}}}
    created = _create(cluster, run, "immutable-run")
    moved = copy.deepcopy(created)
    moved["spec"]["agentRef"]["name"] = "b"
    moved["spec"]["revisionOf"] = "other"
    with pytest.raises(ApiError) as caught:
        cluster.replace(info, "default", "immutable-run", moved, None)
    assert sorted(f"{c['field']}: {c['message']}" for c in caught.value.details["causes"]) == [
        f'spec.agentRef: Invalid value: "object": {rules.AGENT_REF_IMMUTABLE}',
        f'spec.revisionOf: Invalid value: "object": {rules.REVISION_OF_IMMUTABLE}',
    ]
    cancelled = copy.deepcopy(created)
    cancelled["spec"]["cancel"] = True
    assert cluster.replace(info, "default", "immutable-run", cancelled, None)["spec"]["cancel"] is True


def test_duplicate_edges_are_rejected(cluster: Cluster) -> None:
    nodes = [{"name": name, "agentRef": {"name": name}} for name in ("a", "b")]
    edges = [{"from": "a", "to": "b"}, {"from": "a", "to": "b", "when": "completed"}]
    mesh = {"apiVersion": "atomesh.io/v1alpha1", "kind": "Mesh", "spec": {"agents": nodes, "edges": edges}}
    with pytest.raises(ApiError) as caught:
        _create(cluster, mesh, "twice")
    assert [f"{c['field']}: {c['message']}" for c in caught.value.details["causes"]] == [
        f'spec.edges: Invalid value: "array": duplicate edge a -> b: {rules.EDGE_DUPLICATE}'
    ]
