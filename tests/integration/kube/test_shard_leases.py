"""Shard Leases against the API emulator: two replicas split the shards, a replica that stops
renewing loses its shard to the other once its Lease expires, and a graceful stop hands over at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from tests.fixtures.kube import RunningKubeAPI

from atomesh.controller.shards import ShardingOptions, ShardLeases
from atomesh.kube.client import RestKube
from atomesh.kube.resources import LEASES

pytestmark = pytest.mark.integration
LEASE_SECONDS = 3


@pytest.fixture
def kube(kube_api: RunningKubeAPI) -> Iterator[RestKube]:
    client = RestKube.from_kubeconfig(str(kube_api.kubeconfig))
    yield client
    for lease in client.list(LEASES, "default"):
        client.delete(LEASES, "default", lease["metadata"]["name"])
    client.close()


def replica(kube: RestKube, name: str, acquired: list[tuple[str, int]]) -> ShardLeases:
    options = ShardingOptions(2, "default", name, LEASE_SECONDS)
    return ShardLeases(kube, options, lambda shard: acquired.append((name, shard)))


def test_two_replicas_split_the_shards_and_a_silent_ones_shard_moves_after_its_lease(kube: RestKube) -> None:
    acquired: list[tuple[str, int]] = []
    a, b = replica(kube, "a", acquired), replica(kube, "b", acquired)
    a.tick()
    assert a.held() == {0, 1}  # alone: every shard
    b.tick()  # b's member Lease exists now; a gives one shard back at its next tick
    a.tick()
    b.tick()
    assert len(a.held()) == len(b.held()) == 1
    assert a.held() | b.held() == {0, 1}
    namespaces = [f"ns-{i}" for i in range(20)]
    assert all(a.owns(ns) != b.owns(ns) for ns in namespaces)  # each namespace served exactly once
    (b_shard,) = b.held()
    acquired.clear()
    for _ in range(LEASE_SECONDS * 2 + 1):  # b stops renewing (killed): its Leases expire; a renews its own
        a.tick()
        time.sleep(0.5)
    a.tick()
    assert a.held() == {0, 1}
    assert acquired == [("a", b_shard)]  # and a resyncs the shard it took over
    assert not b.held()  # b, cut off, trusts its hold no longer either


def test_a_graceful_stop_hands_the_shards_over_at_once(kube: RestKube) -> None:
    acquired: list[tuple[str, int]] = []
    a, b = replica(kube, "a", acquired), replica(kube, "b", acquired)
    for step in (a, b, a, b):
        step.tick()
    a.stop()
    b.tick()
    assert b.held() == {0, 1}
