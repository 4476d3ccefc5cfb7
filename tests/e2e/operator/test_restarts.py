"""Restart safety: an operator killed (SIGKILL) at random points during 50 run lifecycles leaves
no duplicate pods and no lost runs. Fixed seed; the operator runs as `atomesh operator`."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from atomesh.api import constants as k
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS
from tests.e2e.operator.conftest import (
    TEST_IMAGE,
    Stack,
    agent_manifest,
    assert_operator_never_denied,
    make_namespace,
    operator_kubeconfig,
    run_manifest,
)
from tests.fixtures.kube import SecuredKubeAPI

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
RUNS = 50
SEED = 20261124
EXPECTED = {"publish": "AwaitingReview", "noChanges": "Succeeded", "fail-agent": "Failed"}


class PodCreations:
    """Counts ADDED watch events per runner pod name, straight from the API server's watch stream."""

    def __init__(self, cluster: SecuredKubeAPI, namespace: str) -> None:
        self.counts: Counter[str] = Counter()
        self._cluster = cluster
        self._path = f"/api/v1/namespaces/{namespace}/pods?watch=true&labelSelector={k.LABEL_COMPONENT}%3Drunner"
        self._stop = False
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._response: object = None

    def _watch(self) -> None:
        with contextlib.suppress(OSError, ValueError), self._cluster.open(self._path) as response:
            self._response = response
            for line in response:
                if self._stop:
                    return
                event = json.loads(line)
                if event["type"] == "ADDED":
                    self.counts[event["object"]["metadata"]["uid"] + " " + event["object"]["metadata"]["name"]] += 1

    def __enter__(self) -> PodCreations:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        # The reader thread ends when the API server closes the stream (at the end of the module);
        # closing the response from here would block on the reader's lock.
        self._stop = True

    def per_pod(self) -> Counter[str]:
        return Counter(key.split(" ", 1)[1] for key in self.counts)


def start_operator(kube_api: SecuredKubeAPI) -> subprocess.Popen[bytes]:
    """`atomesh operator` as the chart's ServiceAccount."""
    env = {**os.environ, "ATOMESH_RUNNER_IMAGE": TEST_IMAGE}
    command = [sys.executable, "-m", "atomesh", "operator", "--all-namespaces", "--standalone"]
    kubeconfig = str(operator_kubeconfig(kube_api))
    command += ["--metrics-port", "0", "--metrics-host", "127.0.0.1", "--kubeconfig", kubeconfig]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def restart_stack(cluster: SecuredKubeAPI) -> Iterator[Stack]:
    make_namespace(cluster, "restarts")
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    try:
        yield Stack(cluster, kube, "restarts")
    finally:
        kube.close()


def test_random_kills_lose_no_run_and_duplicate_no_pod(cluster: SecuredKubeAPI, restart_stack: Stack) -> None:
    stack = restart_stack
    rng = random.Random(SEED)
    modes = [rng.choice(["publish", "publish", "noChanges", "fail-agent"]) for _ in range(RUNS)]
    stack.apply(agent_manifest(historyLimit=100))
    kills = 0
    with PodCreations(cluster, stack.namespace) as creations:
        process = start_operator(cluster)
        try:
            stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=60s")
            for index, mode in enumerate(modes):
                stack.kube.create(
                    AGENT_RUNS,
                    {
                        **run_manifest(f"run-{index:02d}", mode=mode),
                        "metadata": {"name": f"run-{index:02d}", "namespace": stack.namespace},
                    },
                )
                if rng.random() < 0.2:  # kill mid-lifecycle, at a random moment, then restart
                    time.sleep(rng.uniform(0.0, 1.5))
                    process.send_signal(signal.SIGKILL)
                    process.wait(10)
                    kills += 1
                    process = start_operator(cluster)

            def finished() -> bool:
                phases = [(r.get("status") or {}).get("phase") for r in stack.kube.list(AGENT_RUNS, stack.namespace)]
                return len(phases) == RUNS and all(p in EXPECTED.values() for p in phases)

            stack.wait_for("every run to finish", finished, timeout=240)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    assert kills >= 5
    runs = {r["metadata"]["name"]: r for r in stack.kube.list(AGENT_RUNS, stack.namespace)}
    for index, mode in enumerate(modes):
        status = runs[f"run-{index:02d}"]["status"]
        assert status["phase"] == EXPECTED[mode], (index, mode, status)
        assert status.get("reason") != "PodLost"
    per_pod = creations.per_pod()
    assert sorted(per_pod) == sorted(f"run-{index:02d}-runner" for index in range(RUNS))
    assert max(per_pod.values()) == 1, [name for name, n in per_pod.items() if n > 1]
    assert_operator_never_denied(cluster)
