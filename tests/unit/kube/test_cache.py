"""The watch cache behind the Kube port, fed as kopf's watches feed it, over FakeKube as the API
server: reads of cached kinds never reach the server once synced, writes go through and are read
back at once, and no event older than the cached object (or an own delete) rolls it back."""

from __future__ import annotations

import copy
import threading

import pytest

from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, PODS, SECRETS


class CountingKube(FakeKube):
    """FakeKube that counts the reads it answers."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, *args: object, **kwargs: object) -> Body | None:
        self.reads += 1
        return super().get(*args, **kwargs)  # type: ignore[arg-type]

    def list(self, *args: object, **kwargs: object) -> list[Body]:
        self.reads += 1
        return super().list(*args, **kwargs)  # type: ignore[arg-type]


def run(name: str, agent: str = "a", labels: dict[str, str] | None = None) -> Body:
    meta: Body = {"name": name, "namespace": "ns", "labels": labels or {}}
    return {"metadata": meta, "spec": {"agentRef": {"name": agent}}}


def synced_cache(api: CountingKube) -> CachedKube:
    """A cache fed with an initial list of everything `api` holds, then marked synced."""
    kinds = {resource.plural: resource for resource in (AGENTS, AGENT_RUNS, PODS)}
    cache = CachedKube(api, kinds.values())
    for (plural, _, _), body in api.objects.items():
        if plural in kinds:
            cache.observe(kinds[plural], copy.deepcopy(body))
    cache.mark_synced()
    api.reads = 0
    return cache


def test_synced_reads_come_from_memory_including_misses() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1", labels={"team": "x"}))
    api.create(AGENT_RUNS, run("r2"))
    cache = synced_cache(api)
    assert cache.get(AGENT_RUNS, "ns", "r1") == api.get(AGENT_RUNS, "ns", "r1")
    api.reads = 0
    assert cache.get(AGENT_RUNS, "ns", "missing") is None
    assert cache.get(PODS, "ns", "r1-pod") is None
    assert [body["metadata"]["name"] for body in cache.list(AGENT_RUNS, "ns")] == ["r1", "r2"]
    assert [body["metadata"]["name"] for body in cache.list(AGENT_RUNS, "ns", {"team": "x"})] == ["r1"]
    assert cache.list(AGENT_RUNS, "other") == []
    assert api.reads == 0


def test_before_the_sync_a_miss_asks_the_api_server_and_is_kept() -> None:
    api = CountingKube()
    api.create(AGENTS, {"metadata": {"name": "a", "namespace": "ns"}, "spec": {}})
    cache = CachedKube(api, (AGENTS,))
    assert cache.get(AGENTS, "ns", "a") is not None
    assert (api.reads, cache.api_reads) == (1, 1)
    assert cache.get(AGENTS, "ns", "a") is not None
    assert api.reads == 1  # the first answer was cached


def test_uncached_kinds_always_go_to_the_api_server() -> None:
    api = CountingKube()
    api.create(SECRETS, {"metadata": {"name": "s", "namespace": "ns"}, "data": {}})
    cache = synced_cache(api)
    assert cache.get(SECRETS, "ns", "s") is not None
    assert api.reads == 1


def test_a_write_is_read_back_at_once_and_a_late_older_event_does_not_roll_it_back() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1"))
    cache = synced_cache(api)
    before = api.get(AGENT_RUNS, "ns", "r1")
    assert before is not None
    cache.patch_status(AGENT_RUNS, "ns", "r1", {"phase": "Running"})
    cache.observe(AGENT_RUNS, before)  # the watch delivers the pre-write version only now
    got = cache.get(AGENT_RUNS, "ns", "r1")
    assert got is not None
    assert got["status"] == {"phase": "Running"}
    newer = api.patch(AGENT_RUNS, "ns", "r1", {"metadata": {"labels": {"x": "y"}}})
    assert newer is not None
    cache.observe(AGENT_RUNS, newer)  # someone else's later write arrives by watch
    got = cache.get(AGENT_RUNS, "ns", "r1")
    assert got is not None
    assert got["metadata"]["labels"] == {"x": "y"}


def test_create_of_a_cached_object_makes_no_request_and_a_new_one_is_cached() -> None:
    api = CountingKube()
    api.create(PODS, {"metadata": {"name": "p", "namespace": "ns"}, "spec": {}})
    cache = synced_cache(api)
    writes = len(api.writes)
    _, created = cache.create(PODS, {"metadata": {"name": "p", "namespace": "ns"}, "spec": {}})
    assert not created
    assert len(api.writes) == writes
    _, created = cache.create(PODS, {"metadata": {"name": "q", "namespace": "ns"}, "spec": {}})
    assert created
    assert cache.get(PODS, "ns", "q") is not None
    assert api.reads == 0


def test_an_own_delete_is_not_undone_by_a_late_event_but_a_re_creation_is_seen() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1"))
    cache = synced_cache(api)
    old = api.get(AGENT_RUNS, "ns", "r1")
    assert old is not None
    assert cache.delete(AGENT_RUNS, "ns", "r1")
    cache.observe(AGENT_RUNS, old)  # the watch had not delivered the deletion yet
    assert cache.get(AGENT_RUNS, "ns", "r1") is None
    recreated, _ = api.create(AGENT_RUNS, run("r1"))
    cache.observe(AGENT_RUNS, recreated)
    assert cache.get(AGENT_RUNS, "ns", "r1") is not None


def test_a_watched_deletion_removes_the_object_unless_it_was_re_created_since() -> None:
    api = CountingKube()
    first, _ = api.create(AGENT_RUNS, run("r1"))
    cache = synced_cache(api)
    api.delete(AGENT_RUNS, "ns", "r1")
    second, _ = api.create(AGENT_RUNS, run("r1"))
    cache.observe(AGENT_RUNS, second)
    cache.forget(AGENT_RUNS, first)  # the old object's deletion arrives after its successor
    assert cache.get(AGENT_RUNS, "ns", "r1") is not None
    cache.forget(AGENT_RUNS, second)
    assert cache.get(AGENT_RUNS, "ns", "r1") is None
    assert cache.sizes()[AGENT_RUNS.plural] == 0


def test_get_returns_a_copy() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1"))
    cache = synced_cache(api)
    got = cache.get(AGENT_RUNS, "ns", "r1")
    assert got is not None
    got["spec"]["agentRef"]["name"] = "changed"
    again = cache.get(AGENT_RUNS, "ns", "r1")
    assert again is not None
    assert again["spec"]["agentRef"]["name"] == "a"


def test_a_list_by_an_indexed_label_follows_label_changes_and_deletions() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1", labels={"mesh": "m1"}))
    api.create(AGENT_RUNS, run("r2", labels={"mesh": "m1", "team": "x"}))
    api.create(AGENT_RUNS, run("r3", labels={"mesh": "m2"}))
    cache = CachedKube(api, (AGENT_RUNS,), indexed_labels=("mesh",))
    for body in api.list(AGENT_RUNS, "ns"):
        cache.observe(AGENT_RUNS, body)
    cache.mark_synced()

    def names(labels: dict[str, str]) -> list[str]:
        return [body["metadata"]["name"] for body in cache.list(AGENT_RUNS, "ns", labels)]

    assert names({"mesh": "m1"}) == ["r1", "r2"]
    assert names({"mesh": "m1", "team": "x"}) == ["r2"]
    cache.patch(AGENT_RUNS, "ns", "r1", {"metadata": {"labels": {"mesh": "m2"}}})  # moved to another mesh
    assert names({"mesh": "m1"}) == ["r2"]
    assert names({"mesh": "m2"}) == ["r1", "r3"]
    cache.delete(AGENT_RUNS, "ns", "r3")
    assert names({"mesh": "m2"}) == ["r1"]
    assert names({"mesh": "none"}) == []


def test_a_packed_kind_reads_back_as_it_was_observed_without_managed_fields() -> None:
    api = CountingKube()
    agent: Body = {
        "metadata": {
            "name": "a",
            "namespace": "ns",
            "labels": {"team": "x"},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"purpose": "tidy", "nested": {"list": [1, "two", {"three": None}]}},
    }
    api.create(AGENTS, copy.deepcopy(agent))
    cache = CachedKube(api, (AGENTS,), packed=(AGENTS,))
    for body in api.list(AGENTS, "ns"):
        cache.observe(AGENTS, body)
    cache.mark_synced()
    got = cache.get(AGENTS, "ns", "a")
    assert got is not None
    assert "managedFields" not in got["metadata"]
    assert got["spec"] == agent["spec"]
    got["spec"]["purpose"] = "changed"  # a decoded copy of its own
    assert [body["spec"]["purpose"] for body in cache.list(AGENTS, "ns", {"team": "x"})] == ["tidy"]
    assert cache.list(AGENTS, "ns", {"team": "y"}) == []
    assert api.reads == 1  # the feeding LIST alone


def test_an_index_files_each_object_under_its_value_and_follows_changes() -> None:
    api = CountingKube()
    for name, agent in (("r1", "a"), ("r2", "b"), ("r3", "a")):
        api.create(AGENT_RUNS, run(name, agent))
    indexers = {AGENT_RUNS: {"agent": lambda body: body["spec"]["agentRef"]["name"]}}
    cache = CachedKube(api, (AGENT_RUNS,), indexers=indexers)
    assert [body["metadata"]["name"] for body in cache.indexed(AGENT_RUNS, "ns", "agent", "a")] == ["r1", "r3"]
    for body in api.list(AGENT_RUNS, "ns"):
        cache.observe(AGENT_RUNS, body)
    cache.mark_synced()
    api.reads = 0

    def names(agent: str, namespace: str = "ns") -> list[str]:
        return [body["metadata"]["name"] for body in cache.indexed(AGENT_RUNS, namespace, "agent", agent)]

    assert names("a") == ["r1", "r3"]
    assert names("a", "") == ["r1", "r3"]
    assert names("a", "other") == []
    cache.patch(AGENT_RUNS, "ns", "r1", {"spec": {"agentRef": {"name": "b"}}})
    assert (names("a"), names("b")) == (["r3"], ["r1", "r2"])
    cache.delete(AGENT_RUNS, "ns", "r3")
    assert names("a") == []
    assert api.reads == 0


def test_while_a_list_is_expected_a_read_that_needs_the_kind_whole_waits_for_it() -> None:
    api = CountingKube()
    api.create(AGENT_RUNS, run("r1"))
    api.create(AGENTS, {"metadata": {"name": "a", "namespace": "ns"}, "spec": {}})
    cache = CachedKube(api, (AGENTS, AGENT_RUNS))
    cache.mark_synced(AGENTS)
    cache.expect_sync(30)
    assert cache.get(AGENTS, "ns", "missing") is None  # a synced kind answers its misses at once
    listed = api.list(AGENT_RUNS, "ns")
    api.reads = 0
    answers: list[list[Body]] = []
    reader = threading.Thread(target=lambda: answers.append(cache.list(AGENT_RUNS, "ns")))
    reader.start()
    for body in listed:  # the list arrives while the read waits
        cache.observe(AGENT_RUNS, body)
    cache.mark_synced(AGENT_RUNS)
    reader.join(30)
    assert [[body["metadata"]["name"] for body in answer] for answer in answers] == [["r1"]]
    assert cache.get(AGENT_RUNS, "ns", "r2") is None
    assert (api.reads, cache.api_reads) == (0, 0)
    assert cache.synced


def test_packed_objects_read_back_whole_whatever_the_first_one_packed_was() -> None:
    api = CountingKube()
    cache = CachedKube(api, (AGENT_RUNS,), packed=(AGENT_RUNS,))
    bodies: list[Body] = [
        {"metadata": {"name": "first", "namespace": "ns"}, "spec": {"agentRef": {"name": "a"}}},
        {
            "metadata": {"name": "second", "namespace": "ns", "labels": {"x": "y"}},
            "spec": {"agentRef": {"name": "b"}, "input": {"text": "ünïcödé ✓", "n": 1.5, "none": None, "list": [True]}},
            "status": {"phase": "Succeeded", "message": "x" * 5000},
        },
    ]
    for body in bodies:
        cache.observe(AGENT_RUNS, copy.deepcopy(body))
    cache.mark_synced()
    assert [cache.get(AGENT_RUNS, "ns", name) for name in ("first", "second")] == bodies
    assert cache.list(AGENT_RUNS, "ns", {"x": "y"}) == bodies[1:]


@pytest.mark.parametrize("packed", [False, True])
def test_a_read_during_an_update_finds_the_object_old_or_new_never_missing(packed: bool) -> None:
    api = CountingKube()
    cache = CachedKube(api, (PODS,), packed=(PODS,) if packed else ())
    pod: Body = {"metadata": {"name": "p", "namespace": "ns", "labels": {"a": "b"}, "resourceVersion": "1"}}
    cache.observe(PODS, pod)
    cache.mark_synced()
    missing, done = [], threading.Event()

    def read() -> None:
        while not done.is_set():
            if cache.get(PODS, "ns", "p") is None:
                missing.append(1)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(2, 20_000):
            cache.observe(PODS, {"metadata": {**pod["metadata"], "resourceVersion": str(version)}})
    finally:
        done.set()
        reader.join(30)
    assert not missing
    assert cache.list(PODS, "ns", {"a": "b"})[0]["metadata"]["resourceVersion"] == "19999"
