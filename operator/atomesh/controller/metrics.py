"""Prometheus metrics in the text exposition format, and the operator's HTTP endpoint
(/metrics, /healthz). Small and dependency-free: a handful of series, rendered on scrape."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable

from aiohttp import web

from atomesh.api.agentrun import PHASES

DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)


def _labels(**labels: str) -> str:
    inner = ",".join(
        f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for key, value in labels.items()
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    """Thread-safe: handlers run in kopf's thread pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.run_phases: dict[tuple[str, str], str] = {}
        self.reconcile_errors: dict[str, int] = defaultdict(int)
        self.cost_usd: dict[str, float] = defaultdict(float)
        self.tokens: dict[str, int] = defaultdict(int)
        self.cost_per_accepted_usd: dict[tuple[str, str], float] = {}
        self._buckets = [0] * len(DURATION_BUCKETS)
        self._duration_sum = 0.0
        self._duration_count = 0

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
                for index, bound in enumerate(DURATION_BUCKETS):
                    if seconds <= bound:
                        self._buckets[index] += 1
                self._duration_sum += seconds
                self._duration_count += 1

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
            lines += [
                "# HELP atomesh_run_duration_seconds Time from run start until its pod's work ended.",
                "# TYPE atomesh_run_duration_seconds histogram",
            ]
            lines += [
                f"atomesh_run_duration_seconds_bucket{_labels(le=repr(bound))} {count}"
                for bound, count in zip(DURATION_BUCKETS, self._buckets, strict=True)
            ]
            lines.append(f'atomesh_run_duration_seconds_bucket{{le="+Inf"}} {self._duration_count}')
            lines.append(f"atomesh_run_duration_seconds_sum {self._duration_sum}")
            lines.append(f"atomesh_run_duration_seconds_count {self._duration_count}")
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
            return "\n".join(lines) + "\n"


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
