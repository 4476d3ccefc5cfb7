"""Sharding: how replicas of the operator split the namespaces they serve, and how a shard whose
replica died moves to another.

A namespace belongs to shard `shard_of(namespace, shards)` (a stable hash, the same in every
replica). Each shard is a coordination.k8s.io Lease (`atomesh-shard-<n>`); a replica works on the
namespaces of the shards whose Lease it holds, and nothing else. Each replica also keeps a member
Lease, so every replica sees how many are alive and takes a fair share: ceil(shards / members).
`plan_shards` is the whole decision of one tick, from the Leases as read:

- a shard held by this replica is renewed, unless it holds more than its fair share (a replica
  joined): then it releases the extra ones (highest first) for the newcomer to take;
- a free shard (no Lease, released, or expired) is taken while this replica is under its fair
  share, or by anyone once it has been expired for a whole further lease duration (so a shard is
  never left unserved because the member count is stale);
- a shard held by another replica whose Lease has not expired is never touched.

Invariants: pure (Leases in, plan out; the caller writes with the Lease's resourceVersion, so two
replicas racing for one Lease cannot both win); a replica trusts its hold only until
`renew_deadline` after its last successful renewal, shorter than the lease duration, so the old
holder stops before another may take over (client-go's leader election does the same).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

SHARD_LEASE_PREFIX = "atomesh-shard-"
MEMBER_LEASE_PREFIX = "atomesh-member-"


def shard_of(namespace: str, shards: int) -> int:
    """The shard of a namespace: a stable hash, so every replica agrees without talking."""
    if shards <= 1:
        return 0
    return int.from_bytes(hashlib.sha256(namespace.encode()).digest()[:8], "big") % shards


def shard_lease_name(shard: int) -> str:
    return f"{SHARD_LEASE_PREFIX}{shard}"


def member_lease_name(identity: str) -> str:
    """A member Lease's name: bounded, from a hash of the replica's identity."""
    return f"{MEMBER_LEASE_PREFIX}{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def renew_deadline(duration: float) -> float:
    """How long a replica trusts a hold after its last successful renewal."""
    return duration * 2 / 3


@dataclass(frozen=True)
class LeaseView:
    """One Lease as read: its holder (empty when released), when it was renewed, for how long."""

    name: str
    holder: str
    renewed: datetime | None
    duration: float
    transitions: int = 0
    resource_version: str = ""

    def expires(self) -> datetime | None:
        return self.renewed + timedelta(seconds=self.duration) if self.renewed else None

    def live(self, now: datetime) -> bool:
        expires = self.expires()
        return bool(self.holder) and expires is not None and expires > now


@dataclass(frozen=True)
class ShardPlan:
    renew: tuple[int, ...] = ()
    acquire: tuple[int, ...] = ()
    release: tuple[int, ...] = ()
    members: int = 1
    fair_share: int = 1


def plan_shards(
    shard_leases: dict[int, LeaseView], member_leases: list[LeaseView], me: str, shards: int, now: datetime
) -> ShardPlan:
    """What this replica (`me`) does this tick with the `shards` shard Leases (missing ones absent)."""
    members = {lease.holder for lease in member_leases if lease.live(now)} | {me}
    fair = math.ceil(shards / len(members))
    held = sorted(shard for shard, lease in shard_leases.items() if lease.holder == me)
    release: tuple[int, ...] = ()
    if len(held) > fair:
        release = tuple(held[fair:])
        held = held[:fair]
    acquire: list[int] = []
    for shard in range(shards):
        lease = shard_leases.get(shard)
        if lease is not None and (lease.holder == me or lease.live(now)):
            continue
        expires = lease.expires() if lease is not None else None
        abandoned = lease is not None and lease.holder and expires is not None
        long_expired = bool(abandoned and expires and now - expires > timedelta(seconds=lease.duration if lease else 0))
        if len(held) + len(acquire) < fair or long_expired:
            acquire.append(shard)
    return ShardPlan(tuple(held), tuple(acquire), release, len(members), fair)
