"""Pure: the Node object, NodeStatus and node Lease that the local kubelet writes.

Follows the real kubelet: `pkg/kubelet/kubelet_node_status.go` (registration, `tryUpdateNodeStatus`,
which posts only when `nodeStatusHasChanged` — heartbeat times ignored — or when
`nodeStatusReportFrequency` has passed), `pkg/kubelet/nodestatus/setters.go` (the four conditions
with their reasons and messages, a transition time kept while the status stays the same) and
`pkg/kubelet/nodelease` with `staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go`
(a Lease named after the node in `kube-node-lease`, holder the node, owned by the Node, renewed every
quarter of its duration).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from atomesh import __version__
from atomesh.api.constants import LABEL_LOCAL_RUNNER, LOCAL_RUNNER_VALUE, TAINT_LOCAL_RUNNER
from atomesh.devstack.kubelet.status import HOST_IP, now_rfc3339

Obj = dict[str, Any]
NODE_LEASE_NAMESPACE = "kube-node-lease"
# kubelet defaults (KubeletConfiguration): nodeLeaseDurationSeconds, nodeStatusUpdateFrequency,
# nodeStatusReportFrequency; the lease is renewed every NodeLeaseRenewIntervalFraction of its duration.
LEASE_DURATION_SECONDS = 40
LEASE_RENEW_FRACTION = 0.25
STATUS_UPDATE_FREQUENCY = 10.0
STATUS_REPORT_FREQUENCY = 300.0
MAX_PODS = "110"
KUBELET_VERSION = "v1.37.0-atomesh"
LOCAL_NODE_PREFIX = "atomesh-local"

# The conditions a kubelet posts, in its order: (type, healthy status, reason, message).
CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
LOCAL_RUNNER_LABELS: Mapping[str, str] = {LABEL_LOCAL_RUNNER: LOCAL_RUNNER_VALUE}
LOCAL_RUNNER_TAINTS: Sequence[Mapping[str, str]] = (
    {"key": TAINT_LOCAL_RUNNER, "value": LOCAL_RUNNER_VALUE, "effect": "NoSchedule"},
)


def local_node_name(host: str | None = None) -> str:
    """`atomesh-local-<host>`: deterministic per machine, so developers joining one cluster each get
    their own Node, and a restart finds its Node again. Lower-cased to a DNS-1123 subdomain."""
    raw = (host or socket.gethostname()).split(".")[0].lower()
    label = re.sub(r"[^a-z0-9-]+", "-", raw).strip("-")[: 63 - len(LOCAL_NODE_PREFIX) - 1].strip("-")
    return f"{LOCAL_NODE_PREFIX}-{label}" if label else LOCAL_NODE_PREFIX


def micro_time(moment: datetime | None = None) -> str:
    """metav1.MicroTime as it is serialised (a Lease's renewTime)."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine or "unknown")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.platform()


def _memory_ki() -> str:
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return f"{line.split()[1]}Ki"
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return f"{pages * size // 1024}Ki"


def capacity(root_dir: Path) -> dict[str, str]:
    """What this machine offers; a scheduler places a pod only where its requests fit."""
    storage = shutil.disk_usage(root_dir if root_dir.exists() else Path.cwd()).total
    return {
        "cpu": str(os.cpu_count() or 1),
        "memory": _memory_ki(),
        "ephemeral-storage": f"{storage // 1024}Ki",
        "pods": MAX_PODS,
    }


def node_info() -> dict[str, str]:
    return {
        "machineID": _read("/etc/machine-id"),
        "systemUUID": _read("/sys/class/dmi/id/product_uuid"),
        "bootID": _read("/proc/sys/kernel/random/boot_id"),
        "kernelVersion": platform.release(),
        "osImage": _os_image(),
        "containerRuntimeVersion": f"atomesh-local://{__version__}",
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": "",
        "operatingSystem": platform.system().lower(),
        "architecture": _architecture(),
    }


def well_known_labels(name: str) -> dict[str, str]:
    """The labels every kubelet sets on its own Node."""
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": platform.system().lower(),
        "kubernetes.io/arch": _architecture(),
        "beta.kubernetes.io/os": platform.system().lower(),
        "beta.kubernetes.io/arch": _architecture(),
    }


def build_node(name: str, labels: Mapping[str, str], taints: Sequence[Mapping[str, str]]) -> Obj:
    """The Node the kubelet registers: the well-known labels a kubelet sets on itself, plus its own."""
    base = well_known_labels(name)
    spec: Obj = {"taints": [dict(taint) for taint in taints]} if taints else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {**base, **labels}}, "spec": spec}


def build_node_status(
    name: str, root_dir: Path, previous: Mapping[str, Any] | None, log_port: int | None, now: str | None = None
) -> Obj:
    """The status to post: healthy conditions with heartbeat `now`, each keeping its transition time from
    `previous` while its status is unchanged (as the setters do), capacity, nodeInfo, addresses."""
    stamp = now or now_rfc3339()
    before = {c.get("type"): c for c in (previous or {}).get("conditions") or [] if isinstance(c, Mapping)}
    conditions = []
    for kind, status, reason, message in CONDITIONS:
        old = before.get(kind) or {}
        transition = old.get("lastTransitionTime") if old.get("status") == status else None
        conditions.append(
            {
                "type": kind,
                "status": status,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": transition or stamp,
                "reason": reason,
                "message": message,
            }
        )
    resources = capacity(root_dir)
    result: Obj = {
        "capacity": resources,
        "allocatable": dict(resources),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": HOST_IP}, {"type": "Hostname", "address": name}],
        "nodeInfo": node_info(),
    }
    if log_port:
        result["daemonEndpoints"] = {"kubeletEndpoint": {"Port": log_port}}
    return result


def _without_heartbeats(status: Mapping[str, Any]) -> Obj:
    conditions = [
        {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
        for c in status.get("conditions") or []
        if isinstance(c, Mapping)
    ]
    return {**status, "conditions": sorted(conditions, key=lambda c: str(c.get("type")))}


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """`nodeStatusHasChanged`: any difference but the conditions' heartbeat times."""
    if old is None:
        return True
    return _without_heartbeats(old) != _without_heartbeats(new)


def merged_taints(current: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, str]]) -> list[Obj]:
    """`current` plus each of `ours` whose key and effect are missing (others' taints stay)."""
    result = [dict(t) for t in current]
    present = {(t.get("key"), t.get("effect")) for t in result}
    result += [dict(t) for t in ours if (t.get("key"), t.get("effect")) not in present]
    return result


def build_lease(name: str, node_uid: str | None, duration: int, now: str | None = None) -> Obj:
    """The node's Lease; owned by its Node (when its uid is known) so it goes when the Node does."""
    meta: Obj = {"name": name, "namespace": NODE_LEASE_NAMESPACE}
    if node_uid:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": node_uid}]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {"holderIdentity": name, "leaseDurationSeconds": duration, "renewTime": now or micro_time()},
    }
