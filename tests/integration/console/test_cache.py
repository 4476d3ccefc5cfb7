"""The console's cache against the Kubernetes API emulator: LIST once, then WATCH; relist after 410 Gone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.fixtures.kube import RunningKubeAPI, write_kubeconfig
from tests.integration.console.seed import create, ensure_namespace, seed, set_status
from tests.unit.core.supervision_builders import run, scenario

from atomesh.console.cache import ClusterCache
from atomesh.devstack.kube import KubeAPIServer
from atomesh.kube.client import KubeError
from atomesh.kube.resources import AGENT_RUNS
from atomesh.kube.watch import GONE, KubeReader

pytestmark = pytest.mark.integration


@pytest.fixture
def small_history_api(tmp_path: Path) -> Iterator[RunningKubeAPI]:
    """An API server that remembers only a few events, so a watch from an old resourceVersion expires."""
    with KubeAPIServer(history_limit=5) as server:
        kube = RunningKubeAPI(server, write_kubeconfig(server.url, tmp_path / "kubeconfig"), tmp_path / "cache")
        kube.apply_crds()
        ensure_namespace(kube, "team-a")
        yield kube


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the cache did not catch up"
        time.sleep(0.05)


def test_cache_lists_once_then_follows_the_watch(small_history_api: RunningKubeAPI) -> None:
    agents, meshes, runs = scenario(datetime.now(UTC))
    seed(small_history_api, [*agents, *meshes, *runs])
    reader = KubeReader.from_kubeconfig(str(small_history_api.kubeconfig))
    changes: list[int] = []
    cache = ClusterCache(reader, on_change=lambda: changes.append(1))
    cache.start()
    try:
        assert cache.wait_synced(10)
        assert [len(items) for items in cache.snapshot()[:3]] == [3, 1, 7]
        lists = cache.stats.lists
        created = create(small_history_api, run("new-run", phase="Pending"))
        eventually(lambda: cache.get("AgentRun", "team-a", "new-run") is not None)
        set_status(small_history_api, "AgentRun", "team-a", "new-run", {"phase": "AwaitingReview"})
        eventually(
            lambda: (
                getattr(getattr(cache.get("AgentRun", "team-a", "new-run"), "status", None), "phase", "")
                == "AwaitingReview"
            )
        )
        small_history_api.request(
            "DELETE", f"/apis/atomesh.io/v1alpha1/namespaces/team-a/agentruns/{created['metadata']['name']}"
        )
        eventually(lambda: cache.get("AgentRun", "team-a", "new-run") is None)
        assert cache.stats.lists == lists, "changes came from the watch, not from new LISTs"
        assert changes
    finally:
        cache.stop()
        reader.close()


def test_a_watch_from_an_expired_resource_version_is_gone(small_history_api: RunningKubeAPI) -> None:
    reader = KubeReader.from_kubeconfig(str(small_history_api.kubeconfig))
    try:
        _, version = reader.list(AGENT_RUNS, None)
        seed(small_history_api, [run(f"r{i}") for i in range(8)])
        with pytest.raises(KubeError) as raised:
            list(reader.watch(AGENT_RUNS, None, version, timeout_seconds=2))
        assert raised.value.status == GONE
    finally:
        reader.close()
