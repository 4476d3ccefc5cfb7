"""Scale benchmark, run by hand from the repository root:
`python -m bench.scale [--agents 5000] [--meshes 50] [--runs 20000] [--minimal-runs]`.

Fills one namespace of the Kubernetes API emulator (its own process) with Agents, Meshes and
finished AgentRuns (each with a merged run's status: its Agent's snapshot, pull request, usage and
steps; `--minimal-runs` for a phase alone, the seed of earlier rounds), lets the operator (a
process of its own) reconcile them once, then starts it again in a fresh process, as a restarted
pod, and prints: time until it goes quiet (every object reconciled once, then its work queue empty
for 2 s), API writes and GET/LISTs the operator made during that resync (the goal for objects
already reconciled is 0 of both), the create→pod latency of a run created one second into the
resync (new work is not queued behind the resync), the operator process's resident memory (the
emulator runs apart) and the LIST latency of every run at the API server.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.operator import agent as agent_manifest
from bench.operator import crds, namespace

from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRunStatus, AgentSnapshot, Artifact, ReviewStatus, StepTimes, Usage
from atomesh.api.common import Condition, dump
from atomesh.controller.main import OperatorThread
from atomesh.core.config import OperatorConfig
from atomesh.devstack.kube import write_kubeconfig
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, PODS

ROOT = Path(__file__).resolve().parents[1]
NS = "scale"
FINISHED_AT = "2026-01-01T00:00:00Z"
# The environment the chart gives the operator's container that changes its memory (templates/deployment.yaml).
OPERATOR_ENV = {"MALLOC_ARENA_MAX": "2"}


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    match = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def start_api_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "atomesh.devstack.kube"], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


AGENT_SPEC = agent_manifest("any", NS)["spec"]


def finished_status(name: str, agent: str, minimal: bool) -> dict[str, Any]:
    """A merged run's status as the operator leaves it: its Agent's snapshot (the spec with the API
    server's defaults), artifact, pull request, usage, steps and conditions; or, `minimal`, its phase alone."""
    if minimal:
        return {"phase": "Succeeded", "reason": "NoChanges", "message": "seeded", "completionTime": FINISHED_AT}
    at = FINISHED_AT
    spec = AgentSpec.model_validate(AGENT_SPEC)
    status = AgentRunStatus(
        observed_generation=1,
        phase="Succeeded",
        reason="Merged",
        message="pull request acme/site#1 merged by reviewer",
        conditions=[
            Condition(
                type="Ready",
                status="True",
                reason="Merged",
                message="merged",
                observed_generation=1,
                last_transition_time=at,
            )
        ],
        agent=AgentSnapshot(name=agent, revision="inline@0123456789ab", spec_hash="0123456789ab" * 5, spec=spec),
        pod_name=f"{name}-runner",
        start_time=at,
        completion_time=at,
        artifact=Artifact(
            type="doc",
            branch=f"atomesh/{agent}/{name}",
            base_branch="main",
            commit="a" * 40,
            files=["README.md"],
            additions=3,
            deletions=1,
        ),
        review=ReviewStatus(
            repo="acme/site",
            url="https://github.com/acme/site/pull/1",
            number=1,
            state="merged",
            decided_by="reviewer",
            decided_at=at,
            merge_commit="b" * 40,
            published_at=at,
            checks_passed=True,
        ),
        usage=Usage(input_tokens=12000, output_tokens=800, cost_usd=0.048, turns=6),
        steps=[
            StepTimes(name=step, started_at=at, finished_at=at, exit_code=0)
            for step in ("checkout", "agent", "publish")
        ],
    )
    return dump(status)


def seed(kube: RestKube, agents: int, meshes: int, runs: int, minimal_runs: bool = False) -> None:
    crds(kube)
    namespace(kube, NS)

    def agent(index: int) -> None:
        kube.create(AGENTS, agent_manifest(f"agent-{index:05d}", NS))

    def mesh(index: int) -> None:
        nodes = [{"name": f"n{step}", "agentRef": {"name": f"agent-{index * 2 + step:05d}"}} for step in (0, 1)]
        spec = {"agents": nodes, "edges": [{"from": "n0", "to": "n1", "when": "accepted"}]}
        kube.create(MESHES, {"metadata": {"name": f"mesh-{index:03d}", "namespace": NS}, "spec": spec})

    def run(index: int) -> None:
        name, agent_name = f"run-{index:06d}", f"agent-{index % agents:05d}"
        body = {"metadata": {"name": name, "namespace": NS}, "spec": {"agentRef": {"name": agent_name}}}
        kube.create(AGENT_RUNS, body)
        kube.patch_status(AGENT_RUNS, NS, name, finished_status(name, agent_name, minimal_runs))

    with ThreadPoolExecutor(8) as pool:
        for step, count in ((agent, agents), (mesh, meshes), (run, runs)):
            started = time.monotonic()
            list(pool.map(step, range(count)))
            print(f"seeded {count} x {step.__name__} in {time.monotonic() - started:.1f} s", flush=True)


def settle(op: OperatorThread, objects: int, quiet: float = 2.0, timeout: float = 900.0) -> float:
    """Seconds from now until the operator has reconciled `objects` requests (a restart reconciles
    every object once: kopf hands them over only as it gets through its own backlog) and its work
    queue has then been empty for `quiet` seconds (that time excluded)."""
    started = time.monotonic()
    idle_since: float | None = None
    queue = op.ctx.workers.queue
    while time.monotonic() - started < timeout:
        busy = not queue.idle
        now = time.monotonic()
        if busy or not op.cache.synced or op.ctx.workers.reconciled < objects:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= quiet:
            return idle_since - started
        time.sleep(0.05)
    raise SystemExit("the operator did not go quiet")


def trimmed_rss_mb() -> float:
    """Resident memory once the C allocator returned its free pages (glibc's malloc_trim)."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()


def new_run_latency(kube: RestKube, name: str) -> float:
    """Create a run and wait for its pod; seconds between the two."""
    created = time.monotonic()
    kube.create(
        AGENT_RUNS, {"metadata": {"name": name, "namespace": NS}, "spec": {"agentRef": {"name": "agent-00000"}}}
    )
    while kube.get(PODS, NS, f"{name}-runner") is None:
        if time.monotonic() - created > 600:
            raise SystemExit(f"no pod for {name}")
        time.sleep(0.02)
    return time.monotonic() - created


def list_latency(kube: RestKube, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.monotonic()
        kube.list(AGENT_RUNS, NS)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def operator_phase(kubeconfig: str, objects: int, restart: bool) -> dict[str, Any]:
    """One operator process's start: until quiet; on a restart also a run created one second in."""
    config = OperatorConfig(runner_image="atomesh-runner:scale")
    before = rss_mb()
    op = OperatorThread(config, kubeconfig, (NS,))
    client = RestKube.from_kubeconfig(kubeconfig)  # the bench's own requests, not counted as the operator's
    started = time.monotonic()
    starting = threading.Thread(target=op.start, kwargs={"timeout": 600})
    starting.start()
    try:
        latency = None
        if restart:
            time.sleep(1.0)
            latency = new_run_latency(client, "run-during-resync")
        starting.join()
        quiet = time.monotonic() - started + settle(op, objects)
        return {
            "quiet after (s)": round(quiet, 1),
            "operator API writes": op.kube.writes,
            "operator GET/LIST requests": op.kube.reads,
            "run created 1 s in: create→pod (ms)": round(latency * 1000, 1) if latency is not None else None,
            "operator RSS (MB, its own process)": round(rss_mb(), 0),
            "… after malloc_trim (MB)": round(trimmed_rss_mb(), 0),
            "RSS before the operator started (MB)": round(before, 0),
            "objects cached": op.cache.sizes(),
        }
    finally:
        starting.join()
        op.stop()
        client.close()


def in_own_process(kubeconfig: str, objects: int, restart: bool) -> dict[str, Any]:
    """`operator_phase` in a fresh process, as a restarted pod is: its memory is the operator's alone."""
    command = [sys.executable, "-m", "bench.scale", "--operator", kubeconfig, "--objects", str(objects)]
    env = {**os.environ, **OPERATOR_ENV}
    done = subprocess.run(
        [*command, *(["--restart"] if restart else [])], cwd=ROOT, capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"the operator process failed:\n{done.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--meshes", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument(
        "--minimal-runs",
        action="store_true",
        help="seed runs with a phase alone (as before), not a merged run's status",
    )
    parser.add_argument("--operator", metavar="KUBECONFIG", help=argparse.SUPPRESS)  # one operator phase
    parser.add_argument("--objects", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--restart", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.operator:
        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(operator_phase(args.operator, args.objects, args.restart)), flush=True)
        return 0
    server, url = start_api_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = str(write_kubeconfig(url, Path(tmp) / "kubeconfig"))
            kube = RestKube.from_kubeconfig(kubeconfig)
            seed(kube, args.agents, args.meshes, args.runs, args.minimal_runs)
            objects = args.agents + args.meshes + args.runs
            first = in_own_process(kubeconfig, objects, restart=False)
            print(f"first start: quiet after {first['quiet after (s)']} s, {first['operator API writes']} writes")
            report = {f"resync: {key}": value for key, value in in_own_process(kubeconfig, objects, True).items()}
            report["API server: LIST of every run, median of 5 (ms)"] = round(list_latency(kube) * 1000, 0)
            server_rss = Path(f"/proc/{server.pid}/status").read_text()
            match = re.search(r"VmRSS:\s+(\d+) kB", server_rss)
            report["API server RSS (MB)"] = int(match.group(1)) // 1024 if match else None
            for key, value in report.items():
                print(f"{key}: {value}")
            kube.close()
    finally:
        server.terminate()
        server.wait(10)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
