"""Prometheus metrics in the text exposition format (version 0.0.4), and the operator's HTTP endpoint
(/metrics, /healthz). Small and dependency-free: a handful of series, rendered on scrape.

Every value is kept from what the operator observes anyway (watch events, its own status writes), so a
scrape costs no API request and a restarted operator rebuilds the gauges from its initial list; the
counters and histograms start over, as Prometheus' `rate()` expects of a restarted process."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from aiohttp import web

from atomesh.api.agentrun import PHASES

DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
# A person's response time: a minute to a week.
REVIEW_WAIT_BUCKETS = (60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 259200.0, 604800.0)


def _labels(**labels: str) -> str:
    inner = ",".join(
        f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in labels.items()
    )
    return "{" + inner + "}" if inner else ""


class Histogram:
    """Cumulative buckets, sum and count of one histogram, per label set."""

    def __init__(self, name: str, help_text: str, buckets: tuple[float, ...]) -> None:
        self.name, self.help_text, self.bounds = name, help_text, buckets
        self.series: dict[tuple[tuple[str, str], ...], tuple[list[int], list[float]]] = {}

    def observe(self, seconds: float, **labels: str) -> None:
        counts, total = self.series.setdefault(tuple(labels.items()), ([0] * (len(self.bounds) + 1), [0.0]))
        for index, bound in enumerate(self.bounds):
            if seconds <= bound:
                counts[index] += 1
        counts[-1] += 1  # +Inf, which is also the count
        total[0] += seconds

    def render(self, always: bool = False) -> list[str]:
        """`always`: an unlabelled histogram shows its zeros before the first observation."""
        lines = [f"# HELP {self.name} {self.help_text}", f"# TYPE {self.name} histogram"]
        series = dict(self.series)
        if always and not series:
            series[()] = ([0] * (len(self.bounds) + 1), [0.0])
        for key, (counts, total) in sorted(series.items()):
            labels = dict(key)
            bounds = [repr(bound) for bound in self.bounds] + ["+Inf"]
            for le, count in zip(bounds, counts, strict=True):
                lines.append(f"{self.name}_bucket{_labels(**labels, le=le)} {count}")
            lines.append(f"{self.name}_sum{_labels(**labels)} {total[0]}")
            lines.append(f"{self.name}_count{_labels(**labels)} {counts[-1]}")
        return lines


class Metrics:
    """Thread-safe: handlers run in kopf's thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.run_phases: dict[tuple[str, str], str] = {}
        self.reconcile_errors: dict[str, int] = defaultdict(int)
        self.cost_usd: dict[str, float] = defaultdict(float)
        self.tokens: dict[str, int] = defaultdict(int)
        self.cost_per_accepted_usd: dict[tuple[str, str], float] = {}
        self.acceptance: dict[tuple[str, str], float] = {}
        # Runs whose pull request waits for a person, by (namespace, run) -> agent; and every
        # (namespace, agent) that had one, so its depth reads 0 rather than vanishing.
        self.review_queue: dict[tuple[str, str], str] = {}
        self._queues_seen: set[tuple[str, str]] = set()
        self.run_duration = Histogram(
            "atomesh_run_duration_seconds", "Time from run start until its pod's work ended.", DURATION_BUCKETS
        )
        self.review_wait = Histogram(
            "atomesh_review_wait_seconds",
            "Time a run's pull request waited for a person, from its hand-over to review until the decision "
            "(merged, closed or changesRequested).",
            REVIEW_WAIT_BUCKETS,
        )

    def observe_run(self, namespace: str, name: str, phase: str | None) -> None:
        with self._lock:
            if phase is None:
                self.run_phases.pop((namespace, name), None)
            else:
                self.run_phases[(namespace, name)] = phase

    def run_finished(self, agent: str, seconds: float | None, cost_usd: float, tokens: int) -> None:
        """Once per run, when its pod's work ends (AwaitingReview, Succeeded, Failed, Cancelled)."""
        with self._lock:
            self.cost_usd[agent] += cost_usd
            self.tokens[agent] += tokens
            if seconds is not None:
                self.run_duration.observe(seconds)

    def observe_review_queue(self, namespace: str, name: str, agent: str | None) -> None:
        """Whether the run's pull request waits for a person (`agent`: the run's Agent) or not (None)."""
        with self._lock:
            if agent is None:
                self.review_queue.pop((namespace, name), None)
            else:
                self.review_queue[(namespace, name)] = agent
                self._queues_seen.add((namespace, agent))

    def review_decided(self, namespace: str, decision: str, seconds: float) -> None:
        """Once per decision on a run awaiting a reviewer (see core.reviewrecord.review_wait)."""
        with self._lock:
            self.review_wait.observe(seconds, namespace=namespace, decision=decision)

    def acceptance_rate(self, namespace: str, agent: str, rate: float | None) -> None:
        """An Agent's merged / decided pull requests (its status.reviews); None: nothing decided."""
        with self._lock:
            if rate is None:
                self.acceptance.pop((namespace, agent), None)
            else:
                self.acceptance[(namespace, agent)] = rate

    def cost_per_accepted(self, namespace: str, agent: str, usd: float | None) -> None:
        """An Agent's cost per accepted artifact this month (from a Budget's status); None: nothing merged."""
        with self._lock:
            if usd is None:
                self.cost_per_accepted_usd.pop((namespace, agent), None)
            else:
                self.cost_per_accepted_usd[(namespace, agent)] = usd

    def reconcile_error(self, kind: str) -> None:
        with self._lock:
            self.reconcile_errors[kind] += 1

    def render(self) -> str:
        with self._lock:
            lines = ["# HELP atomesh_runs AgentRuns by phase.", "# TYPE atomesh_runs gauge"]
            counts: dict[str, int] = dict.fromkeys(PHASES, 0)
            for phase in self.run_phases.values():
                counts[phase] = counts.get(phase, 0) + 1
            lines += [f"atomesh_runs{_labels(phase=phase)} {count}" for phase, count in counts.items()]
            lines += self.run_duration.render(always=True)
            lines += [
                "# HELP atomesh_reconcile_errors_total Failed reconciliations.",
                "# TYPE atomesh_reconcile_errors_total counter",
            ]
            errors = dict(self.reconcile_errors) or {"agent": 0}
            lines += [f"atomesh_reconcile_errors_total{_labels(kind=kind)} {n}" for kind, n in sorted(errors.items())]
            lines += ["# HELP atomesh_cost_usd_total Model spend by agent.", "# TYPE atomesh_cost_usd_total counter"]
            lines += [f"atomesh_cost_usd_total{_labels(agent=a)} {v}" for a, v in sorted(self.cost_usd.items())]
            lines += ["# HELP atomesh_tokens_total Model tokens by agent.", "# TYPE atomesh_tokens_total counter"]
            lines += [f"atomesh_tokens_total{_labels(agent=a)} {v}" for a, v in sorted(self.tokens.items())]
            lines += [
                "# HELP atomesh_cost_per_accepted_artifact_usd Agent spend this month per merged pull request.",
                "# TYPE atomesh_cost_per_accepted_artifact_usd gauge",
            ]
            lines += [
                f"atomesh_cost_per_accepted_artifact_usd{_labels(namespace=ns, agent=a)} {v}"
                for (ns, a), v in sorted(self.cost_per_accepted_usd.items())
            ]
            lines += self._review_lines()
            return "\n".join(lines) + "\n"

    def _review_lines(self) -> list[str]:
        depth = dict.fromkeys(self._queues_seen, 0)
        for (namespace, _), agent in self.review_queue.items():
            depth[(namespace, agent)] += 1
        lines = [
            "# HELP atomesh_review_queue_depth Runs whose pull request waits for a person.",
            "# TYPE atomesh_review_queue_depth gauge",
        ]
        lines += [
            f"atomesh_review_queue_depth{_labels(namespace=ns, agent=a)} {n}" for (ns, a), n in sorted(depth.items())
        ]
        lines += self.review_wait.render()
        lines += [
            "# HELP atomesh_acceptance_ratio Merged / decided pull requests of the runs an Agent still has.",
            "# TYPE atomesh_acceptance_ratio gauge",
        ]
        lines += [
            f"atomesh_acceptance_ratio{_labels(namespace=ns, agent=a)} {v}"
            for (ns, a), v in sorted(self.acceptance.items())
        ]
        return lines


def build_http_app(metrics: Metrics, healthy: Callable[[], bool]) -> web.Application:
    async def scrape(_: web.Request) -> web.Response:
        return web.Response(
            text=metrics.render(),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def health(_: web.Request) -> web.Response:
        ok = healthy()
        return web.json_response({"status": "ok" if ok else "starting"}, status=200 if ok else 503)

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", health)
    return app


class HttpEndpoint:
    """/metrics and /healthz on the operator's loop; port 0 picks a free port (see `.port`)."""

    def __init__(self, metrics: Metrics, host: str, port: int, healthy: Callable[[], bool]) -> None:
        self._app = build_http_app(metrics, healthy)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: list[web.RouteDef]) -> None:
        """More endpoints on the same port (the GitHub webhook); only before `start`."""
        self._app.add_routes(routes)

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # aiohttp exposes the bound port only here
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
