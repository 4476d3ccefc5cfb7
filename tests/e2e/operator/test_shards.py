"""Two sharded operator processes on one API server: each serves the namespaces of the shard whose
Lease it holds; when one is killed (SIGKILL, no goodbye) the other takes its shard over. Counted
from the API server's audit records: every run gets exactly one pod (none created twice, none
lost), and before the kill no namespace was written by both replicas."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomesh.core.sharding import shard_of
from atomesh.devstack.kube.authn import StaticToken
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, PODS
from tests.e2e.operator.conftest import TEST_IMAGE, agent_manifest, apply_crds, make_namespace
from tests.fixtures.kube import SecuredKubeAPI, secured_kube_api

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
REPLICAS = {name: StaticToken(f"{name}-token", name, name, ("system:masters",)) for name in ("op-a", "op-b")}
LEASE_NAMESPACE = "kube-system"
RUNS_PER_NAMESPACE = 10


def namespaces_of_both_shards() -> list[str]:
    """Four namespaces, two in each of the two shards."""
    chosen: dict[int, list[str]] = {0: [], 1: []}
    for index in range(100):
        name = f"shard-ns-{index}"
        if len(chosen[shard_of(name, 2)]) < 2:
            chosen[shard_of(name, 2)].append(name)
    return chosen[0] + chosen[1]


def wait(what: str, check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[SecuredKubeAPI]:
    with secured_kube_api(tmp_path, {token.token: token for token in REPLICAS.values()}) as server:
        apply_crds(server)
        yield server


def run_body(namespace: str, name: str) -> dict[str, object]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"agentRef": {"name": "tidy"}, "input": {"mode": "publish"}},
    }


def start_replica(api: SecuredKubeAPI, name: str, log: Path) -> subprocess.Popen[bytes]:
    kubeconfig = api.token_kubeconfig(name, REPLICAS[name].token)
    command = [sys.executable, "-m", "atomesh", "operator", "-A", "--standalone", "--metrics-port", "0"]
    command += ["--kubeconfig", str(kubeconfig), "--shards", "2", "--shard-lease-namespace", LEASE_NAMESPACE]
    command += ["--shard-lease-seconds", "3"]
    env = {**os.environ, "ATOMESH_RUNNER_IMAGE": TEST_IMAGE, "POD_ID": name}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_two_sharded_replicas_split_runs_without_duplicates_or_losses_under_a_kill(
    api: SecuredKubeAPI, tmp_path: Path
) -> None:
    namespaces = namespaces_of_both_shards()
    kube = RestKube.from_kubeconfig(str(api.kubeconfig))
    replicas = {name: start_replica(api, name, tmp_path / f"{name}.log") for name in REPLICAS}
    try:
        for namespace in namespaces:
            make_namespace(api, namespace)
            kube.create(AGENTS, {**agent_manifest(), "metadata": {"name": "tidy", "namespace": namespace}})

        def holders() -> set[str]:
            leases = api.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases")["items"]
            return {
                (lease["spec"].get("holderIdentity") or "").split("_")[0]
                for lease in leases
                if lease["metadata"]["name"].startswith("atomesh-shard-")
            }

        wait("each replica to hold one shard", lambda: holders() == set(REPLICAS))
        wait(
            "every Agent Ready",
            lambda: all(
                ((kube.get(AGENTS, ns, "tidy") or {}).get("status") or {}).get("specHash") for ns in namespaces
            ),
        )
        settled_at = len(api.access.audit)
        names = [(ns, f"run-{i}") for i in range(RUNS_PER_NAMESPACE) for ns in namespaces]
        half = len(names) // 2
        for namespace, name in names[:half]:
            kube.create(AGENT_RUNS, run_body(namespace, name))
        wait(  # both replicas at work (namespaces[:2] are shard 0's, the rest shard 1's), runs still in flight
            "a first pod in each shard",
            lambda: all(any(kube.list(PODS, ns) for ns in group) for group in (namespaces[:2], namespaces[2:])),
        )
        killed_at = len(api.access.audit)
        replicas["op-b"].send_signal(signal.SIGKILL)
        replicas["op-b"].wait(10)
        for namespace, name in names[half:]:
            kube.create(AGENT_RUNS, run_body(namespace, name))
        wait("a pod for every run", lambda: sum(len(kube.list(PODS, ns)) for ns in namespaces) >= len(names))
        time.sleep(1)  # a duplicate would show up now
    finally:
        for process in replicas.values():
            if process.poll() is None:
                process.terminate()
                process.wait(20)
        kube.close()
    admin = RestKube.from_kubeconfig(str(api.kubeconfig))
    pods = {(ns, pod["metadata"]["name"]) for ns in namespaces for pod in admin.list(PODS, ns)}
    admin.close()
    assert pods == {(ns, f"{name}-runner") for ns, name in names}  # none lost
    records = list(api.access.audit)
    pod_creates = [
        r for r in records if r.user in REPLICAS and (r.verb, r.resource) == ("create", "pods") and r.code == 201
    ]
    assert len(pod_creates) == len(names)  # none created twice
    # Between the shards settling and the kill, each namespace is served by one replica alone
    # (kopf's own bookkeeping annotation on Agents, written by every replica, aside).
    writers: dict[str, set[str]] = {}
    for record in records[settled_at:killed_at]:
        ours = record.user in REPLICAS and record.namespace in namespaces and record.verb in ("create", "patch")
        if ours and (record.resource, record.subresource) != ("agents", ""):
            writers.setdefault(record.namespace, set()).add(record.user)
    assert all(len(users) == 1 for users in writers.values()), writers
    assert {user for users in writers.values() for user in users} == set(REPLICAS)  # both worked
