"""Sharding benchmark, run by hand from the repository root:
`python -m bench.shards [--runs 1000] [--namespaces 20] [--lease-seconds 5]`.

Two operator processes (`atomesh operator --shards 2`), each with its own identity, on one
Kubernetes API emulator with authentication and its audit records; Agents in `--namespaces`
namespaces; `--runs` AgentRuns created at a steady rate across them, and one operator killed with
SIGKILL halfway. Prints, from the API server's audit records and the pods it stores: runs that never
got a pod (lost), pods created twice, pod creates that found the pod already there (409: a second
attempt caught by the deterministic name), how the runs split between the replicas, and how long the
survivor took to hold the dead replica's shard.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from bench.operator import agent, crds, namespace

from atomesh.core.sharding import shard_of
from atomesh.devstack.kube import KubeAPIServer
from atomesh.devstack.kube import server as kube_server
from atomesh.devstack.kube.access import AccessOptions
from atomesh.devstack.kube.authn import StaticToken
from atomesh.devstack.kube.pki import ClusterPKI
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, PODS

ROOT = Path(__file__).resolve().parents[1]
ADMIN = StaticToken("admin-token", "bench-admin", "bench-admin", ("system:masters",))
REPLICAS = {name: StaticToken(f"{name}-token", name, name, ("system:masters",)) for name in ("op-a", "op-b")}
LEASE_NAMESPACE = "kube-system"
IMAGE = "atomesh-test-runner:1"


def wait(what: str, check: Any, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def kubeconfig(directory: Path, url: str, pki: ClusterPKI, token: StaticToken) -> str:
    path = directory / f"{token.user}.kubeconfig"
    config = kube_server.kubeconfig(url, token=token.token, ca_data=pki.ca_data)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def seed(kube: RestKube, namespaces: list[str]) -> None:
    crds(kube)
    for name in namespaces:
        namespace(kube, name)
        kube.create(AGENTS, agent("bench", name))


def start_replica(config: str, name: str, lease_seconds: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "atomesh", "operator", "-A", "--standalone", "--metrics-port", "0"]
    command += ["--kubeconfig", config, "--shards", "2", "--shard-lease-namespace", LEASE_NAMESPACE]
    command += ["--shard-lease-seconds", str(lease_seconds)]
    env = {**os.environ, "ATOMESH_RUNNER_IMAGE": IMAGE, "POD_ID": name}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def shard_holders(kube: RestKube) -> dict[int, str]:
    leases = kube._request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases")["items"]
    return {
        int(lease["metadata"]["name"].rsplit("-", 1)[1]): (lease["spec"].get("holderIdentity") or "").split("_")[0]
        for lease in leases
        if lease["metadata"]["name"].startswith("atomesh-shard-")
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--lease-seconds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=50.0, help="runs created per second")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for every pod")
    args = parser.parse_args()
    namespaces = [f"shard-{index:02d}" for index in range(args.namespaces)]
    pki = ClusterPKI()
    tokens = {token.token: token for token in (ADMIN, *REPLICAS.values())}
    with (
        tempfile.TemporaryDirectory() as tmp,
        KubeAPIServer(tls=pki.server_context(), access=AccessOptions(tokens)) as server,
    ):
        directory = Path(tmp)
        kube = RestKube.from_kubeconfig(kubeconfig(directory, server.url, pki, ADMIN))
        access = server.api.access
        assert access is not None
        seed(kube, namespaces)
        replicas = {
            name: start_replica(
                kubeconfig(directory, server.url, pki, token), name, args.lease_seconds, directory / f"{name}.log"
            )
            for name, token in REPLICAS.items()
        }
        try:
            wait("each replica to hold a shard", lambda: set(shard_holders(kube).values()) == set(REPLICAS))
            wait(
                "every Agent Ready",
                lambda: all(
                    ((kube.get(AGENTS, ns, "bench") or {}).get("status") or {}).get("specHash") for ns in namespaces
                ),
            )
            victim_shard = next(shard for shard, holder in shard_holders(kube).items() if holder == "op-b")
            started = time.monotonic()
            names = [(namespaces[index % len(namespaces)], f"run-{index:04d}") for index in range(args.runs)]
            killed_at, takeover = 0.0, 0.0

            def taken_over() -> bool:
                nonlocal takeover
                if not takeover and shard_holders(kube).get(victim_shard) == "op-a":
                    takeover = time.monotonic() - killed_at
                return bool(takeover)

            for index, (namespace, name) in enumerate(names):
                if index == len(names) // 2:
                    replicas["op-b"].send_signal(signal.SIGKILL)
                    replicas["op-b"].wait(10)
                    killed_at = time.monotonic()
                body = {"metadata": {"name": name, "namespace": namespace}, "spec": {"agentRef": {"name": "bench"}}}
                kube.create(AGENT_RUNS, body)
                if killed_at and index % 10 == 0:
                    taken_over()
                time.sleep(max(0.0, started + (index + 1) / args.rate - time.monotonic()))
            wait("op-a to hold the killed replica's shard", taken_over)
            deadline = time.monotonic() + args.timeout  # then report what is lost rather than fail
            while sum(len(kube.list(PODS, ns)) for ns in namespaces) < len(names) and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # a late duplicate would land now
        finally:
            for process in replicas.values():
                if process.poll() is None:
                    process.terminate()
                    process.wait(30)
        pods = {(ns, pod["metadata"]["name"]) for ns in namespaces for pod in kube.list(PODS, ns)}
        expected = {(ns, f"{name}-runner") for ns, name in names}
        creates = [r for r in access.audit if r.user in REPLICAS and (r.verb, r.resource) == ("create", "pods")]
        created = Counter(r.user for r in creates if r.code == 201)
        conflicts = sum(1 for r in creates if r.code == 409)
        victim_namespaces = sum(1 for ns in namespaces if shard_of(ns, 2) == victim_shard)
        print(
            f"runs: {len(names)} over {len(namespaces)} namespaces ({victim_namespaces} in the killed replica's shard)"
        )
        lost = sorted(expected - pods)
        print(f"lost (no pod): {len(lost)}")
        for namespace, pod in lost[:10]:
            run = kube.get(AGENT_RUNS, namespace, pod.removesuffix("-runner")) or {}
            status = run.get("status") or {}
            print(f"  {namespace}/{pod} shard {shard_of(namespace, 2)}: {status.get('phase')} {status.get('message')}")
        print(f"pods created twice: {sum(created.values()) - len(pods & expected)}")
        print(f"pod creates answered 409 (a second attempt caught by the deterministic name): {conflicts}")
        print(f"pods created per replica: {dict(sorted(created.items()))}")
        print(f"killed replica's shard held by the survivor after: {takeover:.1f} s (lease {args.lease_seconds} s)")
        kube.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
