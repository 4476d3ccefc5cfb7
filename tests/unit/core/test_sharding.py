"""Sharding decisions: which shards a replica renews, takes and gives back, from the Leases as read."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from atomesh.core.sharding import LeaseView, member_lease_name, plan_shards, shard_of

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DURATION = 15.0


def lease(name: str, holder: str, age: float = 1.0) -> LeaseView:
    return LeaseView(name, holder, NOW - timedelta(seconds=age), DURATION, resource_version="1")


def members(*holders: str, age: float = 1.0) -> list[LeaseView]:
    return [lease(member_lease_name(h), h, age) for h in holders]


def test_a_namespace_always_lands_in_the_same_shard_and_shards_are_used_evenly() -> None:
    assert shard_of("team-a", 4) == shard_of("team-a", 4)
    assert shard_of("anything", 1) == 0
    spread = Counter(shard_of(f"ns-{i}", 4) for i in range(4000))
    assert set(spread) == {0, 1, 2, 3}
    assert min(spread.values()) > 800


def test_a_lone_replica_takes_every_shard() -> None:
    plan = plan_shards({}, [], "a", 3, NOW)
    assert plan.acquire == (0, 1, 2)
    assert plan.fair_share == 3


def test_two_replicas_take_one_shard_each() -> None:
    plan = plan_shards({0: lease("s0", "a")}, members("a", "b"), "b", 2, NOW)
    assert (plan.acquire, plan.renew, plan.release) == ((1,), (), ())


def test_a_replica_holding_more_than_its_share_gives_the_extra_back_to_a_newcomer() -> None:
    leases = {0: lease("s0", "a"), 1: lease("s1", "a")}
    plan = plan_shards(leases, members("a", "b"), "a", 2, NOW)
    assert (plan.renew, plan.release) == ((0,), (1,))
    newcomer = plan_shards({0: leases[0], 1: LeaseView("s1", "", None, 1.0)}, members("a", "b"), "b", 2, NOW)
    assert newcomer.acquire == (1,)


def test_a_live_lease_of_another_replica_is_never_taken() -> None:
    plan = plan_shards({0: lease("s0", "b"), 1: lease("s1", "b")}, members("a", "b"), "a", 2, NOW)
    assert plan.acquire == ()


def test_a_dead_replicas_shard_is_taken_once_its_lease_expired() -> None:
    dead = {0: lease("s0", "a"), 1: lease("s1", "b", age=DURATION + 1)}
    still_member = plan_shards(dead, members("a") + members("b", age=DURATION - 1), "a", 2, NOW)
    assert still_member.acquire == ()  # its member Lease still counts it: wait
    gone = plan_shards(dead, members("a") + members("b", age=DURATION + 1), "a", 2, NOW)
    assert gone.acquire == (1,)
    assert gone.members == 1


def test_a_shard_expired_for_a_whole_further_duration_is_taken_even_over_the_fair_share() -> None:
    stale = {0: lease("s0", "a"), 1: lease("s1", "b", age=2 * DURATION + 1)}
    plan = plan_shards(stale, members("a", "b"), "a", 2, NOW)
    assert plan.acquire == (1,)
