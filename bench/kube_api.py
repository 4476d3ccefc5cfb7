"""Benchmark of the Kubernetes API emulator; run by hand from the repository root: `python -m bench.kube_api`.

The server runs in its own process (as under `atomesh dev`), the clients here over loopback HTTP.
Prints: creates/s from one client, list latency with 10,000 objects, watch delivery latency with
20 watchers (p50/p99), and the server's RSS with 50,000 objects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

CM = "/api/v1/namespaces/default/configmaps"


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _configmap(name: str, payload: str = "") -> dict[str, object]:
    return {"metadata": {"name": name, "labels": {"bench": "yes"}}, "data": {"payload": payload or name}}


async def _creates(session: aiohttp.ClientSession, url: str, count: int, prefix: str) -> float:
    start = time.perf_counter()
    for n in range(count):
        async with session.post(url + CM, json=_configmap(f"{prefix}-{n}")) as response:
            assert response.status == 201, await response.text()
            await response.read()
    return count / (time.perf_counter() - start)


async def _fill(
    session: aiohttp.ClientSession, url: str, total: int, prefix: str, payload: str, workers: int = 8
) -> None:
    async def worker(offset: int) -> None:
        for n in range(offset, total, workers):
            async with session.post(url + CM, json=_configmap(f"{prefix}-{n}", payload)) as response:
                assert response.status == 201, await response.text()
                await response.read()

    await asyncio.gather(*(worker(w) for w in range(workers)))


async def _list_latency(session: aiohttp.ClientSession, url: str, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        async with session.get(url + CM) as response:
            body = await response.read()
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status == 200
    items = len(json.loads(body)["items"])
    print(f"  (listed {items} objects, {len(body) / 1e6:.1f} MB per list)")
    return timings


async def _watch_latency(session: aiohttp.ClientSession, url: str, watchers: int, events: int) -> list[float]:
    sent: dict[str, float] = {}
    delays: list[float] = []
    rv = (await (await session.get(url + CM + "?limit=1")).json())["metadata"]["resourceVersion"]
    ready = asyncio.Event()
    opened = 0

    async def watcher() -> None:
        nonlocal opened
        params = {"watch": "true", "resourceVersion": rv, "labelSelector": "lat=yes"}
        async with session.get(url + CM, params=params, timeout=aiohttp.ClientTimeout(total=None)) as response:
            opened += 1
            if opened == watchers:
                ready.set()
            seen = 0
            async for line in response.content:
                received = time.perf_counter()
                name = json.loads(line)["object"]["metadata"]["name"]
                delays.append((received - sent[name]) * 1000)
                seen += 1
                if seen == events:
                    return

    tasks = [asyncio.create_task(watcher()) for _ in range(watchers)]
    await ready.wait()
    await asyncio.sleep(0.2)
    for n in range(events):
        name = f"lat-{n}"
        sent[name] = time.perf_counter()
        body = {"metadata": {"name": name, "labels": {"lat": "yes"}}}
        async with session.post(url + CM, json=body) as response:
            await response.read()
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)
    return delays


async def run(url: str, pid: int, creates: int, list_objects: int, rss_objects: int) -> None:
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        rate = await _creates(session, url, creates, "seq")
        print(f"creates/s from one client (sequential, keep-alive, {creates} ConfigMaps): {rate:,.0f}")

        await _fill(session, url, list_objects - creates, "fill", "x" * 64)
        timings = await _list_latency(session, url, 20)
        print(f"list of {list_objects:,} objects: p50 {_pct(timings, 50):.1f} ms, max {max(timings):.1f} ms")

        delays = await _watch_latency(session, url, 20, 300)
        print(
            f"watch delivery, 20 watchers x 300 events: p50 {_pct(delays, 50):.2f} ms, "
            f"p99 {_pct(delays, 99):.2f} ms, max {max(delays):.2f} ms (mean {statistics.mean(delays):.2f})"
        )

        have = list_objects + 300
        await _fill(session, url, rss_objects - have, "rss", "y" * 256)
        print(f"server RSS with {rss_objects:,} ConfigMaps (~300 B payload each): {_rss_mib(pid):,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=3000)
    parser.add_argument("--list-objects", type=int, default=10_000)
    parser.add_argument("--rss-objects", type=int, default=50_000)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "atomesh.devstack.kube", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        print(f"server {url} (pid {server.pid}), idle RSS {_rss_mib(server.pid):.0f} MiB")
        asyncio.run(run(url, server.pid, args.creates, args.list_objects, args.rss_objects))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
