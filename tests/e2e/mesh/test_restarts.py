"""Exactly once across operator crashes: the operator (`atomesh operator`, SIGKILLed at random points,
fixed seed) drives 12 executions of a three-node mesh whose `completed` edges fire as soon as the
upstream run ends (stand-in runner: no pull request needed). Every edge fires once: each node runs
once per execution — one AgentRun ever created per name, one pod per run — and none is lost."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS
from tests.e2e.mesh.conftest import mesh_manifest, node_run, root_run
from tests.e2e.operator.conftest import Stack, agent_manifest, kube_api, make_namespace
from tests.e2e.operator.test_restarts import PodCreations, start_operator
from tests.fixtures.kube import SecuredKubeAPI

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
EXECUTIONS = 12
SEED = 20261207
NODES = ("a", "b", "c")
__all__ = ["kube_api"]  # the operator suite's API server, with authentication and RBAC


class RunCreations:
    """ADDED watch events per AgentRun name, straight from the API server's watch stream."""

    def __init__(self, cluster: SecuredKubeAPI, namespace: str) -> None:
        self.uids: dict[str, set[str]] = {}
        self._cluster = cluster
        self._path = f"/apis/atomesh.io/v1alpha1/namespaces/{namespace}/agentruns?watch=true"
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with contextlib.suppress(OSError, ValueError), self._cluster.open(self._path) as response:
            for line in response:
                event = json.loads(line)
                if event["type"] == "ADDED":
                    meta = event["object"]["metadata"]
                    self.uids.setdefault(meta["name"], set()).add(meta["uid"])

    def __enter__(self) -> RunCreations:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        return None  # ends with the API server's stream at the end of the module


@pytest.fixture
def restart_stack(cluster: SecuredKubeAPI) -> Iterator[Stack]:
    make_namespace(cluster, "mesh-restarts")
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    try:
        yield Stack(cluster, kube, "mesh-restarts")
    finally:
        kube.close()


def test_random_kills_never_duplicate_or_lose_an_edge(cluster: SecuredKubeAPI, restart_stack: Stack) -> None:
    stack = restart_stack
    rng = random.Random(SEED)
    modes = [rng.choice(["noChanges", "noChanges", "fail-agent"]) for _ in range(EXECUTIONS)]
    stack.apply(agent_manifest(historyLimit=100))
    edges = [
        {"from": "a", "to": "b", "when": "completed", "input": {"mode": "${upstream.input.mode}"}},
        {"from": "b", "to": "c", "when": "completed", "input": {"mode": "${upstream.input.mode}"}},
    ]
    stack.apply(mesh_manifest("chain", dict.fromkeys(NODES, "tidy"), edges, limits={"maxActiveRuns": 4}))
    kills = 0
    with RunCreations(cluster, stack.namespace) as runs, PodCreations(cluster, stack.namespace) as pods:
        process = start_operator(cluster)
        try:
            stack.kubectl("wait", "--for=condition=Ready", "mesh/chain", "--timeout=60s")
            for index, mode in enumerate(modes):
                stack.apply(root_run(f"r-{index:02d}", "chain", "tidy", mode=mode))
                if rng.random() < 0.4:  # kill at a random moment of the flows in progress, then restart
                    time.sleep(rng.uniform(0.0, 1.5))
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    kills += 1
                    process = start_operator(cluster)

            def finished() -> bool:
                items = stack.kube.list(AGENT_RUNS, stack.namespace)
                done = [r for r in items if (r.get("status") or {}).get("phase") in ("Succeeded", "Failed")]
                return len(items) == len(done) == EXECUTIONS * len(NODES)

            stack.wait_for("every node of every execution to finish", finished, timeout=300)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    assert kills >= 3
    expected = {
        (f"r-{index:02d}" if node == "a" else node_run("chain", f"r-{index:02d}", node))
        for index in range(EXECUTIONS)
        for node in NODES
    }
    items = {r["metadata"]["name"]: r for r in stack.kube.list(AGENT_RUNS, stack.namespace)}
    assert set(items) == expected
    assert {name: len(uids) for name, uids in runs.uids.items() if len(uids) != 1} == {}
    assert set(runs.uids) == expected
    assert Counter(pods.per_pod().values()) == Counter({1: len(expected)})
    for index, mode in enumerate(modes):
        root = items[f"r-{index:02d}"]
        execution = root["metadata"]["labels"]["atomesh.io/mesh-execution"]
        flow = [r for r in items.values() if r["metadata"]["labels"].get("atomesh.io/mesh-execution") == execution]
        assert sorted(r["metadata"]["labels"]["atomesh.io/mesh-node"] for r in flow) == list(NODES)
        phase = "Succeeded" if mode == "noChanges" else "Failed"
        assert {r["status"]["phase"] for r in flow} == {phase}, (index, mode)
