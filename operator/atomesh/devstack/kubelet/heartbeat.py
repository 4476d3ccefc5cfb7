"""The local kubelet's Node: registration, then two heartbeats, as the real kubelet keeps them.

- Registration (`registerWithAPIServer` in `pkg/kubelet/kubelet_node_status.go`): create the Node;
  when it exists already (a restart), reconcile our labels and taints onto it. A server that refuses
  the Node (no `nodes` resource, no permission) stops the kubelet with that error: a kubelet without a
  Node would be marked nowhere and a real cluster would never place a pod on it.
- The Lease in `kube-node-lease`, renewed every `leaseDuration * 0.25` seconds with an update of the
  last written Lease, falling back to get-or-create (`component-helpers/apimachinery/lease`).
- NodeStatus computed every `nodeStatusUpdateFrequency` and patched only when it changed (heartbeat
  times aside) or `nodeStatusReportFrequency` passed (`tryUpdateNodeStatus`).

kube-controller-manager's node lifecycle controller treats either a renewed Lease or a new Ready
heartbeat as the node's probe; without both it marks the Node Unknown after its grace period.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from atomesh.devstack.kubelet.apiclient import MERGE_PATCH, ApiClient, ApiStatusError
from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.devstack.kubelet.nodestatus import (
    LEASE_RENEW_FRACTION,
    NODE_LEASE_NAMESPACE,
    build_lease,
    build_node,
    build_node_status,
    merged_taints,
    micro_time,
    status_changed,
)

log = logging.getLogger(__name__)
Obj = dict[str, Any]
TRANSIENT = (ApiStatusError, aiohttp.ClientError, TimeoutError, ValueError)


class NodeRegistrationError(Exception):
    """The API server refused the kubelet's Node; the message says what it answered."""


class NodeHeartbeat:
    def __init__(self, config: KubeletConfig, api: ApiClient, log_port: int | None) -> None:
        self.config = config
        self.api = api
        self.log_port = log_port
        self.node_uid: str | None = None
        self._lease: Obj | None = None
        self._last_report = float("-inf")
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def name(self) -> str:
        return self.config.node_name

    @property
    def _node_path(self) -> str:
        return f"/api/v1/nodes/{self.name}"

    @property
    def _lease_path(self) -> str:
        return f"/apis/coordination.k8s.io/v1/namespaces/{NODE_LEASE_NAMESPACE}/leases"

    @property
    def renew_interval(self) -> float:
        return self.config.node_lease_duration_seconds * LEASE_RENEW_FRACTION

    async def register(self) -> None:
        """Create or adopt the Node, post its first status and take its Lease."""
        node = build_node(self.name, self.config.node_labels, self.config.node_taints)
        try:
            try:
                created = await self.api.request("POST", "/api/v1/nodes", node)
            except ApiStatusError as exc:
                if exc.code != 409:
                    raise
                created = await self._reconcile(node)
            self.node_uid = created["metadata"].get("uid")
            await self.post_status(force=True)
            await self.renew_lease()
        except ApiStatusError as exc:
            raise NodeRegistrationError(f"the local kubelet cannot register Node {self.name}: {exc}") from exc

    async def _reconcile(self, node: Obj) -> Obj:
        """A Node of our name exists: keep it (and what others put on it), make sure ours are there."""
        current = await self.api.request("GET", self._node_path)
        taints = merged_taints((current.get("spec") or {}).get("taints") or [], self.config.node_taints)
        patch: Obj = {"metadata": {"labels": node["metadata"]["labels"]}}
        if taints:
            patch["spec"] = {"taints": taints}
        result: Obj = await self.api.request("PATCH", self._node_path, patch, content_type=MERGE_PATCH)
        return result

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._every(self.renew_interval, self.renew_lease), name="kubelet node lease"),
            loop.create_task(
                self._every(self.config.node_status_update_frequency, self.post_status), name="kubelet node status"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _every(self, interval: float, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await step()
            except TRANSIENT as exc:  # the next tick retries, as the kubelet's loops do
                log.warning("node %s heartbeat failed: %s", self.name, exc)

    async def renew_lease(self) -> None:
        """Update the last written Lease; on a conflict or a missing Lease, get or create it first."""
        if self._lease is not None:
            lease = {**self._lease, "spec": {**self._lease["spec"], "renewTime": micro_time()}}
            try:
                self._lease = await self.api.request("PUT", f"{self._lease_path}/{self.name}", lease)
                return
            except ApiStatusError as exc:
                if exc.code not in (404, 409):
                    raise
                self._lease = None
        current = await self.api.get(f"{self._lease_path}/{self.name}")
        fresh = build_lease(self.name, self.node_uid, self.config.node_lease_duration_seconds)
        if current is None:
            self._lease = await self.api.request("POST", self._lease_path, fresh)
            return
        current["spec"] = {**(current.get("spec") or {}), **fresh["spec"]}
        self._lease = await self.api.request("PUT", f"{self._lease_path}/{self.name}", current)

    async def post_status(self, force: bool = False) -> None:
        """Patch NodeStatus when it changed or the report frequency has passed."""
        current = await self.api.request("GET", self._node_path)
        old = current.get("status") or {}
        new = build_node_status(self.name, self.config.root_dir, old, self.log_port)
        due = time.monotonic() >= self._last_report + self.config.node_status_report_frequency
        if not (force or due or status_changed(old, new)):
            return
        await self.api.request("PATCH", f"{self._node_path}/status", {"status": new}, content_type=MERGE_PATCH)
        self._last_report = time.monotonic()
