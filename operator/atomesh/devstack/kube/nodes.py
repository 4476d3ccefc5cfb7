"""The `nodes` resource (cluster-scoped, with `status`) and its table as kubectl shows it.

Columns follow kube-apiserver's node printer (`pkg/printers/internalversion/printers.go`,
`printNode`): STATUS is `Ready` when the Ready condition is True, `NotReady` otherwise, `Unknown`
without one, with `,SchedulingDisabled` when cordoned; ROLES come from `node-role.kubernetes.io/*`
labels (`<none>` without); VERSION is the kubelet's.
"""

from __future__ import annotations

from typing import Any

from atomesh.devstack.kube.resources import PrinterColumn, ResourceInfo
from atomesh.devstack.kube.table import age

Obj = dict[str, Any]
NODES = ("", "nodes")
ROLE_PREFIX = "node-role.kubernetes.io/"


def ready_condition(node: Obj) -> Obj | None:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            return condition
    return None


def _status(node: Obj) -> str:
    ready = ready_condition(node)
    text = "Unknown" if ready is None else ("Ready" if ready.get("status") == "True" else "NotReady")
    if (node.get("spec") or {}).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def _roles(node: Obj) -> str:
    labels = (node.get("metadata") or {}).get("labels") or {}
    roles = sorted(
        {key[len(ROLE_PREFIX) :] for key in labels if key.startswith(ROLE_PREFIX) and key != ROLE_PREFIX}
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    return ",".join(roles) or "<none>"


def _address(kind: str) -> Any:
    def getter(node: Obj) -> str:
        for address in (node.get("status") or {}).get("addresses") or []:
            if address.get("type") == kind:
                return str(address.get("address", ""))
        return "<none>"

    return getter


def _info(key: str) -> Any:
    return lambda node: str(((node.get("status") or {}).get("nodeInfo") or {}).get(key, ""))


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
        printer_columns=(
            PrinterColumn("Status", "string", "", getter=_status),
            PrinterColumn("Roles", "string", "", getter=_roles),
            PrinterColumn("Age", "string", "", getter=lambda n: age(n["metadata"].get("creationTimestamp"))),
            PrinterColumn("Version", "string", "", getter=_info("kubeletVersion")),
            PrinterColumn("Internal-IP", "string", "", priority=1, getter=_address("InternalIP")),
            PrinterColumn("External-IP", "string", "", priority=1, getter=_address("ExternalIP")),
            PrinterColumn("OS-Image", "string", "", priority=1, getter=_info("osImage")),
            PrinterColumn("Kernel-Version", "string", "", priority=1, getter=_info("kernelVersion")),
            PrinterColumn("Container-Runtime", "string", "", priority=1, getter=_info("containerRuntimeVersion")),
        ),
        age_column=False,
    )
