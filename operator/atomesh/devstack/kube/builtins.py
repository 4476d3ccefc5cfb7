"""The built-in kinds the emulator serves, with the defaults and field selectors that clients and
the local kubelet rely on (a pod's terminationMessagePath default, for one). Their Table columns
are kube-apiserver's printers, in printers.py."""

from __future__ import annotations

import base64
from typing import Any

from atomesh.devstack.kube import timestamps
from atomesh.devstack.kube.nodes import node_resource
from atomesh.devstack.kube.resources import ResourceInfo

Obj = dict[str, Any]
CRD_GROUP = "apiextensions.k8s.io"
NAMESPACES = ("", "namespaces")
CRDS = (CRD_GROUP, "customresourcedefinitions")
PODS = ("", "pods")
SECRETS = ("", "secrets")
JOBS = ("batch", "jobs")
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
READ_ONLY = ("get", "list", "watch")


def _path(obj: Obj, *keys: str) -> str:
    node: Any = obj
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return "" if node is None else str(node)


def _getter(path: str) -> Any:
    keys = tuple(path.split("."))
    return lambda obj: _path(obj, *keys)


def _getters(*paths: str) -> dict[str, Any]:
    return {p: _getter(p) for p in paths}


def builtin_resources() -> list[ResourceInfo]:
    events_fields = _getters(
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )
    events_v1_fields = _getters(
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "reason",
        "type",
        "reportingController",
    )
    return [
        ResourceInfo(
            "",
            "v1",
            "namespaces",
            "namespace",
            "Namespace",
            namespaced=False,
            short_names=("ns",),
            subresources=("status", "finalize"),
            field_getters=_getters("status.phase"),
        ),
        ResourceInfo(
            "",
            "v1",
            "pods",
            "pod",
            "Pod",
            short_names=("po",),
            categories=("all",),
            subresources=("status", "log", "binding"),
            field_getters=_getters(
                "status.phase", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "status.podIP"
            ),
        ),
        ResourceInfo(
            "",
            "v1",
            "configmaps",
            "configmap",
            "ConfigMap",
            short_names=("cm",),
        ),
        ResourceInfo(
            "",
            "v1",
            "secrets",
            "secret",
            "Secret",
            field_getters=_getters("type"),
        ),
        ResourceInfo(
            "",
            "v1",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            short_names=("sa",),
            subresources=("token",),
        ),
        ResourceInfo(
            "",
            "v1",
            "services",
            "service",
            "Service",
            short_names=("svc",),
            categories=("all",),
            subresources=("status",),
        ),
        ResourceInfo(
            "",
            "v1",
            "events",
            "event",
            "Event",
            short_names=("ev",),
            field_getters=events_fields,
        ),
        ResourceInfo(
            "events.k8s.io", "v1", "events", "event", "Event", short_names=("ev",), field_getters=events_v1_fields
        ),
        ResourceInfo(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            short_names=("deploy",),
            categories=("all",),
            subresources=("status",),
        ),
        ResourceInfo(
            "batch",
            "v1",
            "jobs",
            "job",
            "Job",
            categories=("all",),
            subresources=("status",),
            field_getters=_getters("status.successful"),
        ),
        node_resource(),
        ResourceInfo("coordination.k8s.io", "v1", "leases", "lease", "Lease"),
        # Stored and served as kube-apiserver does; enforcing them is a network plugin's job, and the local
        # kubelet's processes share the host's network: nothing here enforces a NetworkPolicy.
        ResourceInfo(
            "networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", short_names=("netpol",)
        ),
        ResourceInfo("rbac.authorization.k8s.io", "v1", "roles", "role", "Role"),
        ResourceInfo("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding"),
        ResourceInfo("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", namespaced=False),
        ResourceInfo(
            "rbac.authorization.k8s.io",
            "v1",
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            namespaced=False,
        ),
        ResourceInfo(
            CRD_GROUP,
            "v1",
            "customresourcedefinitions",
            "customresourcedefinition",
            "CustomResourceDefinition",
            namespaced=False,
            short_names=("crd", "crds"),
            categories=("api-extensions",),
            subresources=("status",),
        ),
    ]


def _image_pull_policy(image: str) -> str:
    tail = image.rsplit("/", 1)[-1]
    if "@" in tail:
        return "IfNotPresent"
    return "Always" if ":" not in tail or tail.endswith(":latest") else "IfNotPresent"


def _default_container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    container.setdefault("resources", {})


def default_pod_spec(spec: Obj) -> None:
    """The API server's pod defaults that kubelets (ours included) read back."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    if "serviceAccountName" not in spec:
        spec["serviceAccountName"] = spec.get("serviceAccount", "default")
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            _default_container(container)


def on_create(gr: tuple[str, str], obj: Obj) -> None:
    """Kind-specific create-time defaults and status resets (mutates the new object)."""
    if gr == PODS:
        default_pod_spec(obj.setdefault("spec", {}))
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif gr == NAMESPACES:
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif gr == JOBS:
        spec = obj.setdefault("spec", {})
        for key, value in (
            ("backoffLimit", 6),
            ("completions", 1),
            ("parallelism", 1),
            ("completionMode", "NonIndexed"),
            ("suspend", False),
        ):
            spec.setdefault(key, value)
        default_pod_spec(spec.setdefault("template", {}).setdefault("spec", {}))
        obj["status"] = {}
    on_write(gr, obj)


def on_write(gr: tuple[str, str], obj: Obj) -> None:
    """Every write: Secrets fold `stringData` into base64 `data`, as the real API server does."""
    timestamps.normalise(gr, obj)
    if gr == SECRETS:
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict):
            data = obj.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
