"""The shard Leases of one replica (`core.sharding` decides; this module reads and writes the
coordination.k8s.io Leases and keeps the answer to "is this namespace mine?").

One background thread ticks every `duration / 5` seconds: one LIST of the Leases in the lease
namespace, then the plan's writes — renewals, acquisitions and releases as merge patches carrying the
Lease's resourceVersion (a replica that lost a race gets 409 Conflict and does not hold the shard),
and its member Lease's renewal. A newly held shard is handed to `on_acquired`, which enqueues every
object of its namespaces (the previous holder may have died halfway), and so is a shard whose hold
had lapsed and is renewed again (requests dropped meanwhile). `owns` is what the work queue
asks before it reconciles: it answers from the last successful renewal, trusted only for
`renew_deadline`, so a replica cut off from the API server stops working before its Lease can
expire and go to another. `stop` releases every shard and deletes the member Lease, so a rolling
update hands shards over at once instead of after a lease duration.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atomesh.api import constants as k
from atomesh.core.sharding import (
    MEMBER_LEASE_PREFIX,
    SHARD_LEASE_PREFIX,
    LeaseView,
    member_lease_name,
    plan_shards,
    renew_deadline,
    shard_lease_name,
    shard_of,
)
from atomesh.kube.client import Kube, KubeError
from atomesh.kube.resources import LEASES

log = logging.getLogger(__name__)
LABEL_SHARDING = f"{k.GROUP}/sharding"  # "shard" or "member": the Leases this module reads


@dataclass(frozen=True)
class ShardingOptions:
    """`shards` shards over the replicas that share `lease_namespace`; `identity` names this replica."""

    shards: int
    lease_namespace: str
    identity: str = ""
    lease_seconds: int = 15

    def named(self) -> ShardingOptions:
        if self.identity:
            return self
        return ShardingOptions(
            self.shards, self.lease_namespace, f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}", self.lease_seconds
        )


def micro_time(now: datetime) -> str:
    """A Lease's MicroTime: RFC 3339 with microseconds."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_micro_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def lease_view(body: dict[str, Any]) -> LeaseView:
    spec = body.get("spec") or {}
    meta = body.get("metadata") or {}
    return LeaseView(
        name=meta.get("name", ""),
        holder=spec.get("holderIdentity") or "",
        renewed=parse_micro_time(spec.get("renewTime")),
        duration=float(spec.get("leaseDurationSeconds") or 0),
        transitions=int(spec.get("leaseTransitions") or 0),
        resource_version=str(meta.get("resourceVersion") or ""),
    )


class ShardLeases:
    def __init__(
        self,
        kube: Kube,
        options: ShardingOptions,
        on_acquired: Callable[[int], None] = lambda shard: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.kube = kube
        self.options = options.named()
        self.on_acquired = on_acquired
        self.clock = clock
        self._held: dict[int, float] = {}  # shard -> monotonic time of its last successful renewal
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def identity(self) -> str:
        return self.options.identity

    def owns(self, namespace: str) -> bool:
        return shard_of(namespace, self.options.shards) in self.held()

    def held(self) -> set[int]:
        deadline = renew_deadline(self.options.lease_seconds)
        now = time.monotonic()
        with self._lock:
            return {shard for shard, renewed in self._held.items() if now - renewed < deadline}

    # -- one tick ---------------------------------------------------------------------------------
    def tick(self) -> None:
        namespace = self.options.lease_namespace
        shard_leases: dict[int, LeaseView] = {}
        members: list[LeaseView] = []
        bodies: dict[str, dict[str, Any]] = {}
        for body in self.kube.list(LEASES, namespace, {LABEL_SHARDING: "shard"}) + self.kube.list(
            LEASES, namespace, {LABEL_SHARDING: "member"}
        ):
            view = lease_view(body)
            bodies[view.name] = body
            if view.name.startswith(SHARD_LEASE_PREFIX) and view.name[len(SHARD_LEASE_PREFIX) :].isdigit():
                shard = int(view.name[len(SHARD_LEASE_PREFIX) :])
                if shard < self.options.shards:
                    shard_leases[shard] = view
            elif view.name.startswith(MEMBER_LEASE_PREFIX):
                members.append(view)
        now = self.clock()
        self._renew_member(bodies.get(member_lease_name(self.identity)), now)
        plan = plan_shards(shard_leases, members, self.identity, self.options.shards, now)
        for shard in plan.release:
            self._forget(shard)
            self._write(shard_leases[shard], {"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": None})
        trusted = self.held()
        for shard in plan.renew:
            if not self._write(shard_leases[shard], {"renewTime": micro_time(now)}):
                self._forget(shard)
                continue
            self._keep(shard)
            if shard not in trusted:  # its hold had lapsed (a slow renewal): requests were dropped
                self._resync(shard)
        for shard in plan.acquire:
            if self._acquire(shard, shard_leases.get(shard), now):
                log.info("shard %d of %d acquired by %s", shard, self.options.shards, self.identity)
                self._keep(shard)
                self._resync(shard)

    def _resync(self, shard: int) -> None:
        try:
            self.on_acquired(shard)
        except KubeError as exc:  # its objects' own events and timers still reach this replica
            log.warning("resyncing shard %d: %s", shard, exc)

    def _keep(self, shard: int) -> None:
        with self._lock:
            self._held[shard] = time.monotonic()

    def _forget(self, shard: int) -> None:
        with self._lock:
            if self._held.pop(shard, None) is not None:
                log.info("shard %d released by %s", shard, self.identity)

    def _spec(self, now: datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.options.lease_seconds,
            "acquireTime": micro_time(now),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }

    def _manifest(self, name: str, role: str, spec: dict[str, Any]) -> dict[str, Any]:
        meta = {"name": name, "namespace": self.options.lease_namespace, "labels": {LABEL_SHARDING: role}}
        return {"metadata": meta, "spec": spec}

    def _acquire(self, shard: int, lease: LeaseView | None, now: datetime) -> bool:
        if lease is None:
            _, created = self.kube.create(LEASES, self._manifest(shard_lease_name(shard), "shard", self._spec(now, 0)))
            return created
        return self._write(lease, self._spec(now, lease.transitions + 1))

    def _write(self, lease: LeaseView, spec: dict[str, Any]) -> bool:
        """A merge patch on the Lease as read: False when another replica wrote it first (409)."""
        patch = {"metadata": {"resourceVersion": lease.resource_version}, "spec": spec}
        try:
            return self.kube.patch(LEASES, self.options.lease_namespace, lease.name, patch) is not None
        except KubeError as exc:
            if exc.status == 409:
                return False
            raise

    def _renew_member(self, body: dict[str, Any] | None, now: datetime) -> None:
        name = member_lease_name(self.identity)
        spec = {"holderIdentity": self.identity, "leaseDurationSeconds": self.options.lease_seconds}
        if body is None:
            self.kube.create(LEASES, self._manifest(name, "member", {**spec, "renewTime": micro_time(now)}))
        else:
            self.kube.patch(LEASES, self.options.lease_namespace, name, {"spec": {"renewTime": micro_time(now)}})

    # -- lifetime ---------------------------------------------------------------------------------
    def start(self) -> None:
        """One tick now (the shards this replica starts with), then a tick every duration / 5."""
        try:
            self.tick()
        except KubeError as exc:
            log.warning("shard leases: %s", exc)
        self._thread = threading.Thread(target=self._loop, name="atomesh-shards", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        period = max(0.2, self.options.lease_seconds / 5)
        while not self._stop.wait(period):
            try:
                self.tick()
            except KubeError as exc:  # the API server is unreachable: holds lapse at their deadline
                log.warning("shard leases: %s", exc)
            except Exception:  # a bug in one tick must not stop the renewals of the next
                log.exception("shard leases: the tick failed")

    def stop(self) -> None:
        """Stop ticking, release every shard held and delete the member Lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        with self._lock:
            held, self._held = set(self._held), {}
        try:
            for lease in self.kube.list(LEASES, self.options.lease_namespace, {LABEL_SHARDING: "shard"}):
                view = lease_view(lease)
                if view.holder == self.identity:
                    self._write(view, {"holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": None})
            self.kube.delete(LEASES, self.options.lease_namespace, member_lease_name(self.identity))
        except KubeError as exc:
            log.warning("releasing shards %s: %s", sorted(held), exc)
