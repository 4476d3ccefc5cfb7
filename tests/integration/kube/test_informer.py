"""atomesh's informer (`kube.informer`) and the operator's run feed (`controller.runfeed`) against the
Kubernetes API emulator: a LIST in pages, then the watch; a watch the server ends is resumed; one that
expired is replaced by a LIST, and the runs deleted meanwhile reach the subscribers as deletions."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from tests.fixtures.kube import RunningKubeAPI, write_kubeconfig

from atomesh.controller.runfeed import RunEvents, RunInformers
from atomesh.devstack.kube import KubeAPIServer
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body, RestKube
from atomesh.kube.informer import Informer
from atomesh.kube.resources import AGENT_RUNS, CONFIGMAPS
from atomesh.kube.watch import KubeReader

pytestmark = pytest.mark.integration
NS = "default"


@pytest.fixture
def short_history_api(tmp_path: Path) -> Iterator[RunningKubeAPI]:
    """An API server that remembers only 5 events, so a watch resumed from an old resourceVersion expires."""
    with KubeAPIServer(history_limit=5) as server:
        kube = RunningKubeAPI(server, write_kubeconfig(server.url, tmp_path / "kubeconfig"), tmp_path / "cache")
        kube.apply_crds()
        yield kube


def new_run(kube: RestKube, name: str) -> Body:
    return kube.create(AGENT_RUNS, {"metadata": {"name": name, "namespace": NS}, "spec": {"agentRef": {"name": "a"}}})[
        0
    ]


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the informer did not catch up"
        time.sleep(0.02)


class Recorder:
    """An informer handler that writes down what it is handed; it can be held on one object's event."""

    def __init__(self) -> None:
        self.lists: list[list[str]] = []
        self.events: list[tuple[str, str]] = []
        self.hold_on: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()

    def listed(self, items: Iterable[Body], version: str) -> None:
        assert version.isdigit()
        self.lists.append(sorted(item["metadata"]["name"] for item in items))

    def changed(self, type: str, body: Body) -> None:
        name = body["metadata"]["name"]
        self.events.append((type, name))
        if name == self.hold_on:
            self.holding.set()
            self.release.wait(30)


def test_lists_in_pages_then_follows_the_watch(short_history_api: RunningKubeAPI) -> None:
    kube = RestKube.from_kubeconfig(str(short_history_api.kubeconfig))
    reader = KubeReader.from_kubeconfig(str(short_history_api.kubeconfig))
    for index in range(7):
        new_run(kube, f"run-{index}")
    assert reader.list(AGENT_RUNS, NS, page_size=3)[0] == reader.list(AGENT_RUNS, NS)[0]
    recorder = Recorder()
    informer = Informer(reader, AGENT_RUNS, NS, recorder, page_size=3, watch_timeout_seconds=1)
    informer.start()
    try:
        assert informer.wait_synced(15)
        assert recorder.lists == [[f"run-{index}" for index in range(7)]]
        new_run(kube, "run-new")
        kube.patch(AGENT_RUNS, NS, "run-new", {"metadata": {"labels": {"x": "y"}}})
        kube.delete(AGENT_RUNS, NS, "run-0")
        eventually(lambda: len(recorder.events) >= 3)
        assert recorder.events == [("ADDED", "run-new"), ("MODIFIED", "run-new"), ("DELETED", "run-0")]
        time.sleep(1.5)  # the server ends the 1 s watch; the informer resumes it from where it was
        new_run(kube, "run-later")
        eventually(lambda: ("ADDED", "run-later") in recorder.events)
        assert informer.lists == 1
        assert informer.watches >= 2
    finally:
        informer.stop()
        reader.close()
        kube.close()


class FailingOnce(Recorder):
    def listed(self, items: Iterable[Body], version: str) -> None:
        first = not self.lists
        super().listed(items, version)
        if first:
            raise RuntimeError("a bug in the handler")


def test_a_handler_that_raises_is_handed_a_new_list(short_history_api: RunningKubeAPI) -> None:
    kube = RestKube.from_kubeconfig(str(short_history_api.kubeconfig))
    reader = KubeReader.from_kubeconfig(str(short_history_api.kubeconfig))
    new_run(kube, "only")
    recorder = FailingOnce()
    informer = Informer(reader, AGENT_RUNS, NS, recorder, retry_initial=0.05)
    informer.start()
    try:
        assert informer.wait_synced(15)
        assert recorder.lists == [["only"], ["only"]]
        new_run(kube, "after")
        eventually(lambda: ("ADDED", "after") in recorder.events)
    finally:
        informer.stop()
        reader.close()
        kube.close()


class HookedList(Recorder):
    """Calls `hook(attempt)` once the `at`-th object of a LIST has been read, then reads on."""

    def __init__(self, at: int, hook: Callable[[int], None]) -> None:
        super().__init__()
        self.at, self.hook = at, hook
        self.attempts = 0

    def listed(self, items: Iterable[Body], version: str) -> None:
        self.attempts += 1
        names = []
        for item in items:
            names.append(item["metadata"]["name"])
            if len(names) == self.at:
                self.hook(self.attempts)
        self.lists.append(sorted(names))


@contextlib.contextmanager
def informing(api: RunningKubeAPI, runs: int, handler: Recorder, page_size: int) -> Iterator[tuple[RestKube, Informer]]:
    """`runs` runs, then an informer of them handing over to `handler` (stopped on exit)."""
    kube = RestKube.from_kubeconfig(str(api.kubeconfig))
    reader = KubeReader.from_kubeconfig(str(api.kubeconfig))
    for index in range(runs):
        new_run(kube, f"run-{index}")
    informer = Informer(reader, AGENT_RUNS, NS, handler, page_size=page_size)
    try:
        yield kube, informer.start()
    finally:
        informer.stop()
        reader.close()
        kube.close()


def test_a_list_whose_continue_token_expired_is_made_again_unpaged(short_history_api: RunningKubeAPI) -> None:
    def pass_the_history_by(attempt: int) -> None:
        if attempt == 1:  # more writes than the server remembers: the next page's continue has expired
            for index in range(6):
                kube.create(CONFIGMAPS, {"metadata": {"name": f"filler-{index}", "namespace": NS}})

    handler = HookedList(3, pass_the_history_by)
    with informing(short_history_api, 7, handler, page_size=3) as (kube, informer):
        assert informer.wait_synced(15)
        assert handler.attempts == 2  # the first stopped at its second page: 410 Expired
        assert handler.lists == [[f"run-{index}" for index in range(7)]]
        assert informer.lists == 2
        new_run(kube, "after")
        eventually(lambda: ("ADDED", "after") in handler.events)


def test_a_change_during_a_list_is_handed_over_before_the_list_ends(short_history_api: RunningKubeAPI) -> None:
    seen_while_listing: list[bool] = []

    def create_a_run_and_wait_for_its_event(_attempt: int) -> None:
        new_run(kube, "during")
        deadline = time.monotonic() + 15
        while ("ADDED", "during") not in handler.events and time.monotonic() < deadline:
            time.sleep(0.02)
        seen_while_listing.append(("ADDED", "during") in handler.events)

    handler = HookedList(1, create_a_run_and_wait_for_its_event)
    with informing(short_history_api, 4, handler, page_size=2) as (kube, informer):
        assert informer.wait_synced(30)
        assert seen_while_listing == [True]
        assert handler.lists == [[f"run-{index}" for index in range(4)]]  # the pages show the first one's version


def test_an_expired_watch_is_replaced_by_a_list(short_history_api: RunningKubeAPI) -> None:
    kube = RestKube.from_kubeconfig(str(short_history_api.kubeconfig))
    reader = KubeReader.from_kubeconfig(str(short_history_api.kubeconfig))
    new_run(kube, "kept")
    new_run(kube, "deleted-unseen")
    recorder = Recorder()
    recorder.hold_on = "held"
    informer = Informer(reader, AGENT_RUNS, NS, recorder, watch_timeout_seconds=1)
    informer.start()
    try:
        assert informer.wait_synced(15)
        new_run(kube, "held")
        assert recorder.holding.wait(15)
        # While the handler holds the informer, its watch ends and more than the server's 5
        # remembered events pass: it cannot be resumed.
        kube.delete(AGENT_RUNS, NS, "deleted-unseen")
        time.sleep(1.5)
        for index in range(6):
            kube.create(CONFIGMAPS, {"metadata": {"name": f"filler-{index}", "namespace": NS}})
        recorder.release.set()
        eventually(lambda: len(recorder.lists) == 2)
        assert recorder.lists[1] == ["held", "kept"]
        assert informer.lists == 2
    finally:
        recorder.release.set()
        informer.stop()
        reader.close()
        kube.close()


def test_the_run_feed_caches_runs_and_reports_deletions_a_relist_finds(
    short_history_api: RunningKubeAPI,
) -> None:
    kube = RestKube.from_kubeconfig(str(short_history_api.kubeconfig))
    cache = CachedKube(kube, (AGENT_RUNS,))
    for name in ("kept", "deleted-unseen"):
        new_run(kube, name)
    heard: list[tuple[str | None, str]] = []
    events = RunEvents()
    events.subscribe(lambda type, body: heard.append((type, body["metadata"]["name"])))
    informers = RunInformers(KubeReader.from_kubeconfig(str(short_history_api.kubeconfig)), events, cache, [NS])
    scope = informers.informers[0]
    informers.start()
    assert informers.wait_synced(15)
    try:
        assert sorted(heard) == [(None, "deleted-unseen"), (None, "kept")]
        assert cache.synced is False
        assert cache.get(AGENT_RUNS, NS, "kept") is not None
        # A relist that lacks a cached run: the cache drops it and the subscribers hear of its deletion.
        kube.delete(AGENT_RUNS, NS, "deleted-unseen")
        eventually(lambda: ("DELETED", "deleted-unseen") in heard)
        heard.clear()
        cache.observe(AGENT_RUNS, {"metadata": {"name": "ghost", "namespace": NS, "resourceVersion": "1"}})
        items, version = scope.reader.list(AGENT_RUNS, NS)
        scope_handler = scope._handler  # the feed's own handler, as the informer calls it after a 410
        scope_handler.listed(items, version)
        assert ("DELETED", "ghost") in heard
        assert cache.get(AGENT_RUNS, NS, "ghost") is None
        assert cache.get(AGENT_RUNS, NS, "kept") is not None
    finally:
        informers.stop()
        kube.close()
