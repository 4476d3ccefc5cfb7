"""Benchmark of `atomesh console` at fleet scale; run by hand from the repository root:
`python -m bench.console_bench [--screenshots docs/console]`.

The Kubernetes API emulator runs in its own process, seeded over HTTP with generated data (500 Agents,
50 Meshes, 20,000 AgentRuns with status, see bench/console_data.py); the console runs in its own process
as a user starts it (`atomesh console --kubeconfig ...`). Prints:
- start-up: seconds until the console serves (its LISTs, parsing, first sync) and the LISTs it made;
- page latency per view (p50/p95 over --rounds views), quiet and while runs change 5 times a second;
- LISTs per page view after start (from the console's /stats);
- a run's phase change visible in an open page: from the status PATCH until chromium shows the new
  phase (Playwright with Debian's chromium; p50/p95 over --changes changes);
- the console process's RSS after all of it.
With --screenshots DIR, saves a PNG of each view at that scale.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from bench.console_data import Fleet, generate

from atomesh.devstack.kube import write_kubeconfig

REPO = Path(__file__).resolve().parents[1]
API = "/apis/atomesh.io/v1alpha1"
PLURALS = {"Agent": "agents", "Mesh": "meshes", "AgentRun": "agentruns"}
CHROMIUM = "/usr/bin/chromium"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def object_path(obj: dict[str, Any], name: bool = True) -> str:
    base = f"{API}/namespaces/{obj['metadata']['namespace']}/{PLURALS[obj['kind']]}"
    return f"{base}/{obj['metadata']['name']}" if name else base


async def apply(session: aiohttp.ClientSession, url: str, path: str, obj: dict[str, Any]) -> None:
    headers = {"Content-Type": "application/apply-patch+yaml"}
    async with session.patch(f"{url}{path}?fieldManager=bench&force=true", json=obj, headers=headers) as response:
        assert response.status < 300, await response.text()


async def seed(url: str, fleet: Fleet, workers: int = 12) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        for path in sorted((REPO / "crds").glob("*.yaml")):
            crd = yaml.safe_load(path.read_text())
            await apply(
                session, url, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}", crd
            )
        await asyncio.sleep(1.0)  # the CRDs become served
        for namespace in fleet.namespaces:
            await apply(
                session,
                url,
                f"/api/v1/namespaces/{namespace}",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            )
        queue = [*fleet.agents, *fleet.meshes, *fleet.runs]

        async def worker(offset: int) -> None:
            for obj in queue[offset::workers]:
                body = {key: value for key, value in obj.items() if key != "status"}
                async with session.post(url + object_path(obj, name=False), json=body) as response:
                    assert response.status == 201, await response.text()
                headers = {"Content-Type": "application/merge-patch+json"}
                async with session.patch(
                    url + object_path(obj) + "/status", json={"status": obj["status"]}, headers=headers
                ) as response:
                    assert response.status == 200, await response.text()

        await asyncio.gather(*(worker(w) for w in range(workers)))
    return time.perf_counter() - started


async def page_latencies(
    console: str, views: dict[str, str], rounds: int, interval: float = 0.0
) -> dict[str, list[float]]:
    result: dict[str, list[float]] = {name: [] for name in views}
    async with aiohttp.ClientSession() as session:
        for _ in range(rounds):
            for name, path in views.items():
                started = time.perf_counter()
                async with session.get(console + path) as response:
                    assert response.status == 200, (path, response.status)
                    await response.read()
                result[name].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(interval)
    return result


async def churn(url: str, runs: list[dict[str, Any]], stop: asyncio.Event, per_second: float = 5.0) -> int:
    """Runs changing while pages are viewed: usage updates of running runs, as the operator writes them."""
    changes = 0
    headers = {"Content-Type": "application/merge-patch+json"}
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            run = runs[changes % len(runs)]
            body = {"status": {"usage": {"turns": changes + 1}}}
            async with session.patch(url + object_path(run) + "/status", json=body, headers=headers) as response:
                await response.read()
            changes += 1
            await asyncio.sleep(1 / per_second)
    return changes


async def stats(console: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(console + "/stats") as response:
        return dict(await response.json())


def report(title: str, latencies: dict[str, list[float]]) -> list[float]:
    print(title)
    every = []
    for name, values in latencies.items():
        every.extend(values)
        print(f"  {name:<22} p50 {statistics.median(values):6.1f} ms   p95 {pct(values, 95):6.1f} ms")
    print(f"  {'all views':<22} p50 {statistics.median(every):6.1f} ms   p95 {pct(every, 95):6.1f} ms")
    return every


def _patch_phase(url: str, run: dict[str, Any], status: dict[str, Any]) -> None:
    import urllib.request

    body = json.dumps({"status": status}).encode()
    headers = {"Content-Type": "application/merge-patch+json"}
    request = urllib.request.Request(url + object_path(run) + "/status", body, headers, method="PATCH")
    urllib.request.urlopen(request, timeout=30).read()


def browser_part(
    url: str, console: str, fleet: Fleet, views: dict[str, str], changes: int, shots: Path | None
) -> tuple[list[float], list[float]]:
    """Phase changes seen in open pages: a run's own page, and the review queue (which shows the run once
    the overview was recomputed). Returns both latency lists (ms)."""
    from playwright.sync_api import sync_playwright

    running = [run for run in fleet.runs if run["status"]["phase"] == "Running"][:2]
    on_run_page, on_queue = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        first = running[0]
        page.goto(f"{console}/runs/{first['metadata']['namespace']}/{first['metadata']['name']}")
        page.wait_for_timeout(500)  # the page's event stream is open
        for n in range(changes):
            phase = "AwaitingReview" if n % 2 == 0 else "Running"
            started = time.perf_counter()
            _patch_phase(url, first, {"phase": phase})
            script = f"document.getElementById('run-phase').textContent.trim() === '{phase}'"
            page.wait_for_function(script, timeout=30_000)
            on_run_page.append((time.perf_counter() - started) * 1000)
            page.wait_for_timeout(200)
        second = running[1]
        namespace, name = second["metadata"]["namespace"], second["metadata"]["name"]
        page.goto(f"{console}/queue?namespace={namespace}&agent={second['spec']['agentRef']['name']}")
        page.wait_for_timeout(500)
        row = f'tr[data-run="{namespace}/{name}"]'
        for n in range(changes):
            awaiting = n % 2 == 0
            started = time.perf_counter()
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            status = {"phase": "AwaitingReview", "review": {"publishedAt": now}} if awaiting else {"phase": "Running"}
            _patch_phase(url, second, status)
            page.wait_for_selector(row, state="attached" if awaiting else "detached", timeout=30_000)
            on_queue.append((time.perf_counter() - started) * 1000)
            page.wait_for_timeout(200)
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            for name, path in views.items():
                if name == "queue-filtered":
                    continue  # the queue once is enough
                page.goto(console + path)
                page.screenshot(path=str(shots / f"{name}.png"))
        browser.close()
    return on_run_page, on_queue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--meshes", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--screenshots", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    fleet = generate(args.agents, args.meshes, args.runs)
    workdir = Path(tempfile.mkdtemp(prefix="console-bench-"))
    server = subprocess.Popen(
        [sys.executable, "-m", "atomesh.devstack.kube", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    console_process = None
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        kubeconfig = write_kubeconfig(url, workdir / "kubeconfig")
        seconds = asyncio.run(seed(url, fleet))
        counts = f"{len(fleet.agents)} Agents, {len(fleet.meshes)} Meshes, {len(fleet.runs)} AgentRuns"
        print(f"seeded {counts} in {seconds:.0f} s")

        started = time.perf_counter()
        console_process = subprocess.Popen(
            [sys.executable, "-m", "atomesh", "console", "--kubeconfig", str(kubeconfig), "--port", "0"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert console_process.stdout is not None
        line = console_process.stdout.readline()
        console = line.split()[2]
        at_start = asyncio.run(stats(console))
        print(f"console serves after {time.perf_counter() - started:.1f} s with {at_start['objects']}; "
              f"{at_start['lists']} LISTs; RSS {rss_mib(console_process.pid):.0f} MiB")  # fmt: skip

        mesh, run, agent = fleet.meshes[0], fleet.runs[0], fleet.agents[0]
        views = {
            "queue": "/queue",
            "queue-filtered": f"/queue?namespace={fleet.namespaces[3]}",
            "attention": "/attention",
            "fleet": "/fleet?sort=costPerAccepted&order=desc",
            "meshes": "/meshes",
            "mesh": f"/meshes/{mesh['metadata']['namespace']}/{mesh['metadata']['name']}",
            "run": f"/runs/{run['metadata']['namespace']}/{run['metadata']['name']}",
            "agent": f"/agents/{agent['metadata']['namespace']}/{agent['metadata']['name']}",
        }
        quiet = report("page latency, quiet cluster:", asyncio.run(page_latencies(console, views, args.rounds)))

        async def busy() -> tuple[dict[str, list[float]], int]:
            stop = asyncio.Event()
            running = [item for item in fleet.runs if item["status"]["phase"] == "Running"]
            task = asyncio.create_task(churn(url, running, stop))
            try:
                # Paced like people clicking, so that changes land between views and the cache recomputes.
                return await page_latencies(console, views, args.rounds, interval=0.05), 0
            finally:
                stop.set()
                await task

        busy_latencies, _ = asyncio.run(busy())
        every = report("page latency, 5 run changes per second:", busy_latencies)
        after = asyncio.run(stats(console))
        views_served = after["pageViews"] - at_start["pageViews"]
        extra_lists = after["lists"] - at_start["lists"]
        per_view = extra_lists / max(1, views_served)
        applied = after["watchEvents"] - at_start["watchEvents"]
        print(f"LISTs per page view after start: {per_view:.3f} ({extra_lists} over {views_served} views)")
        print(f"watch events applied meanwhile: {applied}; relists after 410 Gone: {after['relists']}")

        on_run_page, on_queue = browser_part(url, console, fleet, views, args.changes, args.screenshots)
        for where, visible in (("the run's page", on_run_page), ("the review queue", on_queue)):
            median, p95 = statistics.median(visible), pct(visible, 95)
            print(f"phase change visible in {where}: p50 {median:.0f} ms, p95 {p95:.0f} ms over {len(visible)} changes")
        print(f"console RSS at the end: {rss_mib(console_process.pid):.0f} MiB")
        print(f"summary: page p95 {pct(quiet, 95):.1f} ms quiet / {pct(every, 95):.1f} ms busy")
    finally:
        if console_process is not None:
            console_process.terminate()
            console_process.wait(10)
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
