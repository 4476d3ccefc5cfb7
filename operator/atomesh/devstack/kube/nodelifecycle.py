"""A minimal node lifecycle controller, as kube-controller-manager runs one beside a real API server.

Follows `pkg/controller/nodelifecycle/node_lifecycle_controller.go`:

- `monitorNodeHealth`, every `node_monitor_period`: a Node's probe time moves to "now" whenever its
  Ready condition carries a new `lastHeartbeatTime` or its Lease in `kube-node-lease` a new
  `renewTime` (`tryUpdateNodeHealth`). A Node first seen is given "now". When the probe is older than
  `node_monitor_grace_period` (`node_startup_grace_period` for a Node that never posted Ready), its
  Ready, MemoryPressure, DiskPressure and PIDPressure conditions become Unknown with reason
  `NodeStatusUnknown` and message "Kubelet stopped posting node status." (`NodeStatusNeverUpdated` /
  "Kubelet never posted node status." for a missing one).
- Taints from conditions (`doNoScheduleTaintingPass`): `node.kubernetes.io/not-ready` for Ready False,
  `.../unreachable` for Ready Unknown, the pressure taints, `.../unschedulable` when cordoned, all
  NoSchedule; and the NoExecute `not-ready`/`unreachable` taint of `processTaintBaseEviction`, removed
  again when the Node is Ready (`markNodeAsReachable`).
- The `NodeNotReady` event when a Ready Node stops posting (`RecordNodeStatusChange`).

Not emulated: zones and disruption modes, the rate limit on NoExecute tainting (applied at once here),
marking the node's pods NotReady, and evicting them (no taint-eviction controller runs).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from atomesh.devstack.kube import patch
from atomesh.devstack.kube.cluster import Cluster, now
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.nodes import NODES, ready_condition

log = logging.getLogger(__name__)
Obj = dict[str, Any]
LEASES = ("coordination.k8s.io", "leases")
EVENTS = ("", "events")
NODE_LEASE_NAMESPACE = "kube-node-lease"
# kube-controller-manager defaults: --node-monitor-period, --node-monitor-grace-period (50s since 1.32),
# --node-startup-grace-period.
NODE_MONITOR_PERIOD = 5.0
NODE_MONITOR_GRACE_PERIOD = 50.0
NODE_STARTUP_GRACE_PERIOD = 60.0
HEALTH_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
TAINT_PREFIX = "node.kubernetes.io/"
NOT_READY = TAINT_PREFIX + "not-ready"
UNREACHABLE = TAINT_PREFIX + "unreachable"
UNSCHEDULABLE = TAINT_PREFIX + "unschedulable"
# nodeConditionToTaintKeyStatusMap: (condition type, status) -> taint key (NoSchedule).
CONDITION_TAINTS = {
    ("Ready", "False"): NOT_READY,
    ("Ready", "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): TAINT_PREFIX + "memory-pressure",
    ("DiskPressure", "True"): TAINT_PREFIX + "disk-pressure",
    ("NetworkUnavailable", "True"): TAINT_PREFIX + "network-unavailable",
    ("PIDPressure", "True"): TAINT_PREFIX + "pid-pressure",
}
CONTROLLER_TAINT_KEYS = {*CONDITION_TAINTS.values(), UNSCHEDULABLE}
NO_EXECUTE = {"False": NOT_READY, "Unknown": UNREACHABLE}


@dataclass
class _Health:
    probe: float
    heartbeat: str | None
    renew: str | None


def desired_taints(node: Obj) -> set[tuple[str, str]]:
    """(key, effect) of the taints this controller owns that `node` should carry now."""
    wanted: set[tuple[str, str]] = set()
    for condition in (node.get("status") or {}).get("conditions") or []:
        key = CONDITION_TAINTS.get((str(condition.get("type")), str(condition.get("status"))))
        if key:
            wanted.add((key, "NoSchedule"))
    if (node.get("spec") or {}).get("unschedulable"):
        wanted.add((UNSCHEDULABLE, "NoSchedule"))
    ready = ready_condition(node)
    if ready is not None and ready.get("status") in NO_EXECUTE:
        wanted.add((NO_EXECUTE[str(ready["status"])], "NoExecute"))
    return wanted


def reconcile_taints(node: Obj, stamp: str) -> list[Obj] | None:
    """The node's taints with ours added or removed; None when nothing changes. Taints of others stay."""
    current = [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]
    wanted = desired_taints(node)

    def ours(taint: Obj) -> bool:
        owned = taint.get("key") in CONTROLLER_TAINT_KEYS
        return owned and (taint.get("effect") == "NoSchedule" or taint.get("key") in NO_EXECUTE.values())

    kept = [t for t in current if not ours(t) or (t.get("key"), t.get("effect")) in wanted]
    present = {(t.get("key"), t.get("effect")) for t in kept}
    added = [{"key": k, "effect": e, "timeAdded": stamp} for k, e in sorted(wanted - present)]
    if not added and len(kept) == len(current):
        return None
    return kept + added


def unknown_conditions(node: Obj, stamp: str) -> list[Obj]:
    """`tryUpdateNodeHealth` after the grace period: the health conditions set to Unknown."""
    conditions = [dict(c) for c in (node.get("status") or {}).get("conditions") or [] if isinstance(c, dict)]
    by_type = {c.get("type"): c for c in conditions}
    created = node["metadata"].get("creationTimestamp", stamp)
    for kind in HEALTH_CONDITIONS:
        condition = by_type.get(kind)
        if condition is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "reason": "NodeStatusNeverUpdated",
                    "message": "Kubelet never posted node status.",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": stamp,
                }
            )
        elif condition.get("status") != "Unknown":
            condition.update(
                status="Unknown",
                reason="NodeStatusUnknown",
                message="Kubelet stopped posting node status.",
                lastTransitionTime=stamp,
            )
    return conditions


class NodeLifecycle:
    """Watches Node heartbeats in the emulator's own store; `monitor()` is one pass."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        period: float = NODE_MONITOR_PERIOD,
        grace_period: float = NODE_MONITOR_GRACE_PERIOD,
        startup_grace_period: float = NODE_STARTUP_GRACE_PERIOD,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cluster = cluster
        self.period = period
        self.grace_period = grace_period
        self.startup_grace_period = startup_grace_period
        self._clock = clock
        self._health: dict[str, _Health] = {}

    def monitor(self) -> None:
        info = self.cluster.info_for(NODES)
        if info is None:
            return
        seen = set()
        for stored in list(self.cluster.store.iter(NODES, None)):
            node = stored.obj
            name = node["metadata"]["name"]
            seen.add(name)
            try:
                self._check(info, name, node)
            except ApiError as exc:  # changed meanwhile: the next pass sees the new version
                log.debug("node %s: %s", name, exc.message)
        for name in set(self._health) - seen:
            del self._health[name]

    def _check(self, info: Any, name: str, node: Obj) -> None:
        ready = ready_condition(node)
        heartbeat = ready.get("lastHeartbeatTime") if ready else None
        lease = self.cluster.store.get(LEASES, NODE_LEASE_NAMESPACE, name)
        renew = ((lease.obj.get("spec") or {}).get("renewTime") if lease else None) or None
        clock = self._clock()
        health = self._health.get(name)
        if health is None:
            health = self._health[name] = _Health(clock, heartbeat, renew)
        if heartbeat != health.heartbeat or (renew is not None and renew != health.renew):
            health.probe, health.heartbeat, health.renew = clock, heartbeat, renew
        grace = self.grace_period if ready is not None else self.startup_grace_period
        stamp = now()
        if clock > health.probe + grace and (ready is None or ready.get("status") != "Unknown"):
            body = {"status": {"conditions": unknown_conditions(node, stamp)}}
            was_ready = ready is not None and ready.get("status") == "True"
            node, _ = self.cluster.patch(info, "", name, patch.MERGE, body, "status")
            if was_ready:
                self._record(node, "NodeNotReady", stamp)
            # Our own write carries no new heartbeat: remember it so it is not taken for one.
            health.heartbeat = (ready_condition(node) or {}).get("lastHeartbeatTime")
        taints = reconcile_taints(node, stamp)
        if taints is not None:
            self.cluster.patch(info, "", name, patch.MERGE, {"spec": {"taints": taints}}, None)

    def _record(self, node: Obj, reason: str, stamp: str) -> None:
        """`RecordNodeStatusChange`: a Normal event in `default` (Nodes have no namespace) from node-controller."""
        events = self.cluster.info_for(EVENTS)
        if events is None:
            return
        meta = node["metadata"]
        event = {
            "metadata": {"generateName": f"{meta['name']}."},
            "involvedObject": {"kind": "Node", "apiVersion": "v1", "name": meta["name"], "uid": meta.get("uid", "")},
            "reason": reason,
            "message": f"Node {meta['name']} status is now: {reason}",
            "type": "Normal",
            "source": {"component": "node-controller"},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        self.cluster.create(events, "default", event)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            self.monitor()
