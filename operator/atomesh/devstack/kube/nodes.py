"""The `nodes` resource (cluster-scoped, with `status`) and the `pods/binding` subresource that puts
a pod on a Node. Its table is kube-apiserver's node printer, in `printers`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from atomesh.devstack.kube import patch
from atomesh.devstack.kube.errors import bad_request, conflict, invalid
from atomesh.devstack.kube.resources import ResourceInfo

if TYPE_CHECKING:
    from atomesh.devstack.kube.cluster import Cluster

Obj = dict[str, Any]
NODES = ("", "nodes")


def ready_condition(node: Obj) -> Obj | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def node_resource() -> ResourceInfo:
    return ResourceInfo(
        "",
        "v1",
        "nodes",
        "node",
        "Node",
        namespaced=False,
        short_names=("no",),
        subresources=("status",),
        field_getters={"spec.unschedulable": lambda n: str(bool((n.get("spec") or {}).get("unschedulable"))).lower()},
    )


def bind_pod(cluster: Cluster, info: ResourceInfo, namespace: str, name: str, body: Any) -> Obj:
    """`POST pods/NAME/binding`, as a scheduler binds (`BindingREST` in
    `pkg/registry/core/pod/storage/storage.go`): the pod gets `spec.nodeName`, the binding's
    annotations and PodScheduled=True, once; a second binding is a Conflict, so of two binders (the
    local kubelet and a real scheduler) exactly one wins. Answers Status Success."""
    if not isinstance(body, dict) or not isinstance(body.get("target"), dict):
        raise bad_request("a Binding needs a target")
    meta = body.get("metadata") or {}
    if meta.get("name", name) != name:
        raise bad_request("name in URL does not match name in Binding object")
    target = body["target"]
    if target.get("kind", "Node") not in ("", "Node") or not target.get("name"):
        raise invalid(
            "Binding", "", name, [{"field": "target", "reason": "FieldValueInvalid", "message": "must name a Node"}]
        )
    pod = cluster.get(info, namespace, name).obj
    if pod["metadata"].get("deletionTimestamp"):
        raise conflict("", "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host")
    assigned = (pod.get("spec") or {}).get("nodeName")
    if assigned:
        raise conflict("", "pods/binding", name, f'pod {name} is already assigned to node "{assigned}"')
    annotations = {**(pod["metadata"].get("annotations") or {}), **(meta.get("annotations") or {})}
    update = {"metadata": {"annotations": annotations} if annotations else {}, "spec": {"nodeName": target["name"]}}
    cluster.patch(info, namespace, name, patch.MERGE, update, None)
    conditions = [c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") != "PodScheduled"]
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp}
    cluster.patch(info, namespace, name, patch.MERGE, {"status": {"conditions": [*conditions, scheduled]}}, "status")
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
