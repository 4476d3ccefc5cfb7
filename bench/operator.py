"""Operator benchmark, run by hand from the repository root:
`python -m bench.operator [--runs 200] [--agents 500] [--idle 60] [--pairs 7]`.

Prints AgentRun created → runner pod created latency (p50/p99) — for the operator alone (the
kubelet does not serve that namespace) and with the kubelet running every pod on the same
machine — Kubernetes API writes per run lifecycle, to AwaitingReview and through the merge of its
pull request on the GitHub emulator (counted from the API server's watch streams: every write is
one watch event), and API writes per minute with many idle Agents after they settled (target: zero).
Everything runs locally: the Kubernetes API emulator, the local kubelet with the stand-in runner
of the e2e tests, and the real operator in a thread. With `--pairs N`, also N alternating pairs of
atomesh and the bare kopf peer (bench/kopf_peer.py), each in its own process on a fresh namespace:
create→pod p50 and the operator process's CPU for `--runs` runs, medians side by side.
"""

from __future__ import annotations

import os
import sys

# Run as `python bench/operator.py`, this file's folder comes first on sys.path and the file would
# shadow the standard library's `operator` module; drop that entry before anything imports it.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from bench.pulls import PullRequests, open_pull_requests

from atomesh.controller.main import OperatorThread
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.core.config import OperatorConfig
from atomesh.devstack.kube import KubeAPIServer, write_kubeconfig
from atomesh.devstack.kubelet.background import BackgroundKubelet
from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.forge.github import GitHubForge
from atomesh.forge.webhook import EVENTS
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, PODS

ROOT = Path(__file__).resolve().parents[1]
FAKE_RUNNER = ROOT / "tests" / "e2e" / "operator" / "fake_runner.py"
IMAGE = "atomesh-test-runner:1"
LIFECYCLE_NAMESPACE = "bench-runs"
WEBHOOK_SECRET = "bench-webhook-secret"
WATCHED = {
    "agents": "/apis/atomesh.io/v1alpha1/namespaces/{ns}/agents",
    "agentruns": "/apis/atomesh.io/v1alpha1/namespaces/{ns}/agentruns",
    "pods": "/api/v1/namespaces/{ns}/pods",
    "configmaps": "/api/v1/namespaces/{ns}/configmaps",
    "events": "/api/v1/namespaces/{ns}/events",
}


class Watcher:
    """One watch per resource; records (time, resource, type, object) for every write."""

    def __init__(self, url: str, namespace: str) -> None:
        self.records: list[tuple[float, str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        for resource, path in WATCHED.items():
            full = f"{url}{path.format(ns=namespace)}?watch=true&resourceVersion=0"
            threading.Thread(target=self._watch, args=(resource, full), daemon=True).start()

    def _watch(self, resource: str, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=3600) as response:
                for line in response:
                    event = json.loads(line)
                    if event["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        with self._lock:
                            self.records.append((time.monotonic(), resource, event["type"], event["object"]))
        except OSError:
            return

    def since(self, start: float) -> list[tuple[float, str, str, dict[str, Any]]]:
        with self._lock:
            return [record for record in self.records if record[0] >= start]


def crds(kube: RestKube) -> None:
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            version["schema"]["openAPIV3Schema"]["properties"].pop("metadata", None)
        kube._request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body=crd)


def namespace(kube: RestKube, name: str) -> None:
    kube._request(
        "POST", "/api/v1/namespaces", body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    )
    for secret, key in (("atomesh-forge", "token"), ("atomesh-model", "api-key")):
        body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret}, "stringData": {key: "x"}}
        kube._request("POST", f"/api/v1/namespaces/{name}/secrets", body=body)


def agent(name: str, ns: str, repo: str = "acme/site") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "purpose": "bench",
            "instructions": "bench",
            "output": {"artifact": "doc"},
            "workspace": {"repo": repo},
            "harness": {"model": "m"},
            "historyLimit": 1000,
        },
    }


def wait(what: str, check: Any, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def create_runs(kube: RestKube, ns: str, runs: int, pulls: list[dict[str, Any]] | None = None) -> dict[str, float]:
    """`runs` AgentRuns at a steady 20 per second (not one burst), each publishing its pull request of
    `pulls` when given; returns when each was created."""
    created: dict[str, float] = {}
    for index in range(runs):
        name = f"run-{index:03d}"
        created[name] = time.monotonic()
        run_input: dict[str, Any] = {"mode": "publish"}
        if pulls:
            run_input["pull"] = pulls[index]
        kube.create(
            AGENT_RUNS,
            {
                "metadata": {"name": name, "namespace": ns},
                "spec": {"agentRef": {"name": "bench"}, "input": run_input},
            },
        )
        time.sleep(0.05)
    return created


def report_latency(
    label: str, created: dict[str, float], records: list[tuple[float, str, str, dict[str, Any]]]
) -> None:
    pod_added: dict[str, float] = {}
    for at, resource, type_, obj in records:
        if resource == "pods" and type_ == "ADDED":
            pod_added.setdefault(obj["metadata"]["labels"]["atomesh.io/run"], at)
    latencies = [(pod_added[name] - created[name]) * 1000 for name in created if name in pod_added]
    print(
        f"create→pod latency over {len(latencies)} runs, {label}: p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms"
    )


def ready_agent(kube: RestKube, ns: str, repo: str = "acme/site") -> None:
    namespace(kube, ns)
    kube.create(AGENTS, agent("bench", ns, repo))
    wait("agent Ready", lambda: ((kube.get(AGENTS, ns, "bench") or {}).get("status") or {}).get("specHash"))
    time.sleep(1)


def bench_latency(kube: RestKube, url: str, runs: int, repo: str) -> None:
    """The operator's reaction alone: the kubelet does not serve this namespace, so no runner
    process competes for the two cores and pods stay Pending once created."""
    ns = "bench-latency"
    ready_agent(kube, ns, repo)
    watcher = Watcher(url, ns)
    start = time.monotonic()
    created = create_runs(kube, ns, runs)
    wait("every runner pod", lambda: len(kube.list(PODS, ns)) == runs)
    time.sleep(1)
    report_latency("operator alone (pods not run)", created, watcher.since(start))


def count_writes(records: list[tuple[float, str, str, dict[str, Any]]]) -> Counter[str]:
    """Writes seen on the watch streams, by whom: the kubelet's pod status and Events apart."""
    writes: Counter[str] = Counter()
    for _, resource, _type, obj in records:
        if resource == "pods" and _type == "MODIFIED":
            writes["pods (kubelet status)"] += 1
            continue
        if resource == "events":
            source = (obj.get("source") or {}).get("component") or obj.get("reportingComponent") or ""
            by = "kubelet" if "kubelet" in source or "scheduler" in source else "operator"
            writes[f"events ({by})"] += 1  # the scheduler's (the local kubelet binds) counted with the kubelet's
            if by == "operator":
                writes[f"  events (operator) {obj.get('reason')} {_type.lower()}"] += 1
            continue
        writes[f"{resource} {_type.lower()}"] += 1
        if resource == "agentruns" and _type == "MODIFIED":
            phase = (obj.get("status") or {}).get("phase")
            writes[f"  agentruns modified, now {phase} ({(obj.get('status') or {}).get('reason')})"] += 1
    return writes


def report_writes(what: str, writes: Counter[str], runs: int) -> None:
    operator_total = sum(
        n for key, n in writes.items() if "kubelet" not in key and key != "agentruns added" and not key.startswith(" ")
    )
    print(
        f"API writes per run lifecycle ({what}), by the operator (the run's creation not counted): "
        f"{operator_total / runs:.2f}"
    )
    for key, n in sorted(writes.items()):
        print(f"  {key}: {n / runs:.2f} per run")


def all_in_phase(kube: RestKube, ns: str, runs: int, phase: str) -> bool:
    items = kube.list(AGENT_RUNS, ns)
    return len(items) == runs and all((i.get("status") or {}).get("phase") == phase for i in items)


def bench_runs(kube: RestKube, url: str, runs: int, op: OperatorThread, pulls: PullRequests) -> None:
    """Each run publishes a pull request of the GitHub emulator; once all await review, the reviewer
    merges them at 20 per second: writes to AwaitingReview, and through the decision."""
    ns = LIFECYCLE_NAMESPACE
    ready_agent(kube, ns, pulls.repo)
    watcher = Watcher(url, ns)
    reads_before = op.kube.reads
    start = time.monotonic()
    created = create_runs(kube, ns, runs, pulls.pulls)
    wait("every run AwaitingReview", lambda: all_in_phase(kube, ns, runs, "AwaitingReview"))
    time.sleep(2)
    records = watcher.since(start)
    report_latency("with the local kubelet running every pod on the same machine", created, records)
    report_writes("Pending → Running → AwaitingReview", count_writes(records), runs)
    print(f"API reads (GET/LIST) per run lifecycle, by the operator: {(op.kube.reads - reads_before) / runs:.2f}")
    pulls.merge_all()
    wait("every run Succeeded", lambda: all_in_phase(kube, ns, runs, "Succeeded"))
    time.sleep(2)
    report_writes("… → AwaitingReview → merged → Succeeded", count_writes(watcher.since(start)), runs)


def bench_idle(kube: RestKube, url: str, agents: int, idle: float, repo: str) -> None:
    ns = "bench-idle"
    namespace(kube, ns)
    for index in range(agents):
        kube.create(AGENTS, agent(f"idle-{index:03d}", ns, repo))

    def settled() -> bool:
        items = kube.list(AGENTS, ns)
        return len(items) == agents and all((i.get("status") or {}).get("specHash") for i in items)

    started = time.monotonic()
    wait(f"{agents} Agents Ready", settled)
    print(f"{agents} Agents Ready after {time.monotonic() - started:.1f} s")
    time.sleep(5)  # let the last bookkeeping patches land
    watcher = Watcher(url, ns)
    time.sleep(2)  # the initial ADDED events of the watch are not writes
    start = time.monotonic()
    time.sleep(idle)
    writes = [r for r in watcher.since(start) if r[2] != "ADDED" or r[1] == "events"]
    print(
        f"API writes with {agents} idle Agents: {len(writes)} in {idle:.0f} s"
        f" = {len(writes) * 60 / idle:.1f} per minute"
    )


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def subject_command(subject: str, kubeconfig: str, ns: str) -> list[str]:
    if subject == "peer":
        return [sys.executable, "-m", "bench.kopf_peer", "--kubeconfig", kubeconfig, "-n", ns]
    # The runner image comes from ATOMESH_RUNNER_IMAGE, set by bench_pair_member.
    return [
        sys.executable,
        "-m",
        "atomesh",
        "operator",
        "--standalone",
        "-n",
        ns,
        "--kubeconfig",
        kubeconfig,
        "--metrics-port",
        "0",
    ]


def bench_pair_member(
    kube: RestKube, url: str, kubeconfig: str, subject: str, ns: str, runs: int
) -> tuple[float, float]:
    """(create→pod p50 in ms, operator CPU seconds) for `runs` runs handled by `subject` alone."""
    namespace(kube, ns)
    kube.create(AGENTS, agent("bench", ns))
    env = {**os.environ, "ATOMESH_RUNNER_IMAGE": IMAGE}
    process = subprocess.Popen(
        subject_command(subject, kubeconfig, ns),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if subject == "atomesh":
            wait("agent Ready", lambda: ((kube.get(AGENTS, ns, "bench") or {}).get("status") or {}).get("specHash"))
        time.sleep(2)  # both started and watching, their start-up CPU spent
        watcher = Watcher(url, ns)
        time.sleep(0.5)
        cpu_before, start = process_cpu(process.pid), time.monotonic()
        created = create_runs(kube, ns, runs)
        wait("every runner pod", lambda: len(kube.list(PODS, ns)) == runs)
        time.sleep(1)
        cpu = process_cpu(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(30)
    pod_added: dict[str, float] = {}
    for at, resource, type_, obj in watcher.since(start):
        if resource == "pods" and type_ == "ADDED":
            pod_added.setdefault(obj["metadata"]["labels"]["atomesh.io/run"], at)
    latencies = [(pod_added[name] - created[name]) * 1000 for name in created if name in pod_added]
    return statistics.median(latencies), cpu


def bench_pairs(kube: RestKube, url: str, kubeconfig: str, pairs: int, runs: int) -> None:
    results: dict[str, list[tuple[float, float]]] = {"atomesh": [], "peer": []}
    for index in range(pairs):
        order = ("atomesh", "peer") if index % 2 == 0 else ("peer", "atomesh")
        for subject in order:
            p50, cpu = bench_pair_member(kube, url, kubeconfig, subject, f"pair-{index}-{subject}", runs)
            results[subject].append((p50, cpu))
            print(f"pair {index} {subject}: create→pod p50 {p50:.1f} ms, CPU {cpu:.2f} s for {runs} runs", flush=True)
    medians = {
        subject: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
        for subject, rows in results.items()
    }
    (a_p50, a_cpu), (p_p50, p_cpu) = medians["atomesh"], medians["peer"]
    print(f"median of {pairs} pairs, {runs} runs at 20/s: atomesh vs bare kopf peer")
    print(f"  create→pod p50: {a_p50:.1f} ms vs {p_p50:.1f} ms ({a_p50 / p_p50:.2f}x)")
    print(
        f"  operator CPU per run: {a_cpu / runs * 1000:.1f} ms vs {p_cpu / runs * 1000:.1f} ms ({a_cpu / p_cpu:.2f}x)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds to count idle writes")
    parser.add_argument("--pairs", type=int, default=0, help="atomesh vs bare kopf peer pairs (0: skip)")
    parser.add_argument("--only-pairs", action="store_true", help="run the pairs alone")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, KubeAPIServer() as server:
        kubeconfig = write_kubeconfig(server.url, Path(tmp) / "kubeconfig")
        kube = RestKube.from_kubeconfig(str(kubeconfig))
        crds(kube)
        kubelet = KubeletConfig(
            server=server.url,
            root_dir=Path(tmp) / "kubelet",
            image_pattern="atomesh",
            namespace=LIFECYCLE_NAMESPACE,
            entrypoints={"atomesh-test-runner": [sys.executable, str(FAKE_RUNNER)]},
        )
        if args.pairs:
            bench_pairs(kube, server.url, str(kubeconfig), args.pairs, args.runs)
        if not args.only_pairs:
            pulls = open_pull_requests(Path(tmp), args.runs)
            # As installed: GitHub's webhooks tell the operator of a decision; the poll (60 s) is the fallback.
            config = OperatorConfig(runner_image=IMAGE, forge_api_url=pulls.api_url, forge_git_url=pulls.git_url)
            forge = GitHubForge(pulls.api_url, pulls.accounts.bot_token)
            operator = OperatorThread(
                config, str(kubeconfig), all_namespaces=True, forge=forge, webhook_secret=WEBHOOK_SECRET
            )
            try:
                with BackgroundKubelet(kubelet), operator as op:
                    pulls.emulator.add_hook(op.metrics_url + WEBHOOK_PATH, WEBHOOK_SECRET, list(EVENTS), pulls.repo)
                    bench_latency(kube, server.url, args.runs, pulls.repo)
                    bench_runs(kube, server.url, args.runs, op, pulls)
                    bench_idle(kube, server.url, args.agents, args.idle, pulls.repo)
            finally:
                pulls.close()
        kube.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
