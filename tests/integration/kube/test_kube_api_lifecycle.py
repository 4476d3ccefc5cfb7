"""Garbage collection by ownerReferences, namespace and CRD clean-up, and state that survives a restart."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.kube import RunningKubeAPI
from tests.integration.kube.kube_helpers import WIDGETS, WIDGETS_CRD, eventually, widget

from atomesh.devstack.kube import KubeAPIServer

pytestmark = pytest.mark.integration


def _exists(kube_api: RunningKubeAPI, path: str) -> bool:
    try:
        kube_api.request("GET", path)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def _owned(kind: str, name: str, owner: dict[str, Any]) -> dict[str, Any]:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "ownerReferences": [ref]}}
    if kind == "Pod":
        obj["spec"] = {"containers": [{"name": "c", "image": "busybox"}]}
    return obj


def test_deleting_an_owner_deletes_its_pods_and_configmaps(kube_api: RunningKubeAPI) -> None:
    kube_api.apply(WIDGETS_CRD)
    owner = kube_api.request("POST", WIDGETS.format(ns="default"), widget("gc-owner"))
    kube_api.request("POST", "/api/v1/namespaces/default/pods", _owned("Pod", "gc-pod", owner))
    kube_api.request("POST", "/api/v1/namespaces/default/configmaps", _owned("ConfigMap", "gc-cm", owner))
    kube_api.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "gc-free"}})

    kube_api.request("DELETE", WIDGETS.format(ns="default") + "/gc-owner", {"propagationPolicy": "Background"})
    eventually(lambda: not _exists(kube_api, "/api/v1/namespaces/default/pods/gc-pod"), what="the owned pod to go")
    eventually(
        lambda: not _exists(kube_api, "/api/v1/namespaces/default/configmaps/gc-cm"), what="the owned configmap to go"
    )
    assert _exists(kube_api, "/api/v1/namespaces/default/configmaps/gc-free")


def test_orphan_propagation_keeps_dependents(kube_api: RunningKubeAPI) -> None:
    owner = kube_api.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "orphan-owner"}})
    owner |= {"apiVersion": "v1", "kind": "ConfigMap"}
    kube_api.request("POST", "/api/v1/namespaces/default/configmaps", _owned("ConfigMap", "orphan-dep", owner))
    kube_api.request("DELETE", "/api/v1/namespaces/default/configmaps/orphan-owner", {"propagationPolicy": "Orphan"})
    dep = kube_api.request("GET", "/api/v1/namespaces/default/configmaps/orphan-dep")
    assert "ownerReferences" not in dep["metadata"]


def test_deleting_a_namespace_deletes_its_content(kube_api: RunningKubeAPI) -> None:
    kube_api.request("POST", "/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    kube_api.request("POST", "/api/v1/namespaces/doomed/configmaps", {"metadata": {"name": "inside"}})
    kube_api.request("DELETE", "/api/v1/namespaces/doomed")
    eventually(lambda: not _exists(kube_api, "/api/v1/namespaces/doomed"), what="the namespace to go")
    assert not _exists(kube_api, "/api/v1/namespaces/doomed/configmaps/inside")


def test_deleting_a_crd_deletes_its_instances_and_kind(kube_api: RunningKubeAPI) -> None:
    crd = {
        **WIDGETS_CRD,
        "metadata": {"name": "gadgets.example.org"},
        "spec": {**WIDGETS_CRD["spec"], "group": "example.org", "names": {"plural": "gadgets", "kind": "Gadget"}},
    }
    kube_api.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    created = kube_api.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.org")
    assert {c["type"] for c in created["status"]["conditions"]} == {"Established", "NamesAccepted"}
    kube_api.request(
        "POST",
        "/apis/example.org/v1/namespaces/default/gadgets",
        {"kind": "Gadget", "apiVersion": "example.org/v1", "metadata": {"name": "g"}, "spec": {"size": 1}},
    )
    kube_api.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.org")
    eventually(
        lambda: not _exists(kube_api, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.org")
    )
    assert not _exists(kube_api, "/apis/example.org/v1")


def test_state_survives_a_restart(tmp_path: Path) -> None:
    with KubeAPIServer(state_dir=tmp_path) as first:
        first_api = RunningKubeAPI(first, tmp_path / "kubeconfig", tmp_path / "cache")
        first_api.apply(WIDGETS_CRD)
        kept = first_api.request("POST", WIDGETS.format(ns="default"), widget("kept", size=7))
        first_api.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "gone"}})
        first_api.request("DELETE", "/api/v1/namespaces/default/configmaps/gone")
        last_rv = int(first_api.request("GET", "/api/v1/namespaces")["metadata"]["resourceVersion"])
    with KubeAPIServer(state_dir=tmp_path) as second:
        second_api = RunningKubeAPI(second, tmp_path / "kubeconfig", tmp_path / "cache")
        again = second_api.request("GET", WIDGETS.format(ns="default") + "/kept")
        assert again == kept
        assert not _exists(second_api, "/api/v1/namespaces/default/configmaps/gone")
        assert int(second_api.request("GET", "/api/v1/namespaces")["metadata"]["resourceVersion"]) == last_rv
        newer = second_api.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "after"}})
        assert int(newer["metadata"]["resourceVersion"]) == last_rv + 1
