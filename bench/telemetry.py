"""What the operator's supervision figures cost at fleet scale: one /metrics render with 500 Agents and
20,000 runs (a quarter of them in the review queue, a review decision each), one Agent rollup of its
kept runs, and one finished run's trace plan. Run by hand from the repository root:

python -m bench.telemetry [--agents 500] [--runs 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from atomesh.api.agentrun import AgentRun
from atomesh.controller.metrics import Metrics
from atomesh.core.rollup import rollup_runs
from atomesh.core.runtrace import run_trace

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SPEC = {
    "purpose": "bench",
    "instructions": "bench",
    "output": {"artifact": "code"},
    "workspace": {"repo": "demo/sample-app"},
    "harness": {"kind": "litellm", "model": "claude-sonnet-4-5"},
}


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def finished_run(index: int) -> AgentRun:
    state = "merged" if index % 3 else "closed"
    return AgentRun.model_validate(
        {
            "metadata": {
                "name": f"run-{index}",
                "namespace": "bench",
                "uid": f"uid-{index}",
                "creationTimestamp": stamp(121 + index),
            },
            "spec": {"agentRef": {"name": "fixer"}},
            "status": {
                "phase": "Succeeded" if state == "merged" else "Rejected",
                "agent": {"name": "fixer", "revision": "inline@x", "spec": SPEC},
                "startTime": stamp(120 + index),
                "completionTime": stamp(index),
                "usage": {"inputTokens": 1000, "outputTokens": 200, "costUSD": 0.02},
                "review": {
                    "url": f"pr/{index}",
                    "state": state,
                    "publishedAt": stamp(100 + index),
                    "decidedAt": stamp(index),
                },
                "steps": [{"name": "agent", "startedAt": stamp(119 + index), "finishedAt": stamp(101 + index)}],
            },
        }
    )


def p95_ms(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), sorted(times)[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    metrics = Metrics()
    for index in range(args.runs):
        namespace, agent = f"team-{index % 50}", f"agent-{index % args.agents}"
        metrics.observe_run(namespace, f"run-{index}", "AwaitingReview" if index % 4 == 0 else "Succeeded")
        metrics.observe_review_queue(namespace, f"run-{index}", agent if index % 4 == 0 else None)
        metrics.review_decided(namespace, ("merged", "closed", "changesRequested")[index % 3], float(index % 90_000))
        metrics.acceptance_rate(namespace, agent, 0.5)
        metrics.cost_per_accepted(namespace, agent, 1.0)
    size = len(metrics.render().encode())
    median, p95 = p95_ms(metrics.render, 50)
    scale = f"{args.agents} agents, {args.runs} runs"
    print(f"/metrics render, {scale}: median {median:.1f} ms, p95 {p95:.1f} ms, {size} bytes")
    kept = [finished_run(index) for index in range(20)]
    median, p95 = p95_ms(lambda: rollup_runs(kept, now=NOW), 200)
    print(f"rollup of an Agent's 20 kept runs: median {median:.2f} ms, p95 {p95:.2f} ms")
    run = kept[0]
    assert run_trace(run) is not None
    median, p95 = p95_ms(lambda: run_trace(run), 2000)
    print(f"trace plan of one finished run: median {median * 1000:.0f} µs, p95 {p95 * 1000:.0f} µs")


if __name__ == "__main__":
    main()
