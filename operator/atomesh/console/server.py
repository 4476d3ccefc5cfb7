"""The console's web server: aiohttp routes rendering Jinja2 templates from the cache, Server-Sent Events
for live updates, and form actions under the user's identity.

Pages never ask the API server: they read `ClusterCache`. A page subscribes to `/events`; when the cache
changes the server sends `change`, and the page fetches its own URL again and swaps its `#live` element.
Forms (`forms`) carry a per-process token and the server checks it (and the Origin header), so another
site open in the same browser cannot act with the user's credentials through the console; a read-only
console shows no forms and refuses every POST.
"""

from __future__ import annotations

import asyncio
import functools
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from atomesh.api import Agent, AgentRun, Mesh, dump
from atomesh.api.constants import RUNNER_STEPS
from atomesh.console import format as fmt
from atomesh.console.appstate import (
    CACHE,
    CHANGED,
    CLOSING,
    KUBE,
    MEMO,
    PAGE_VIEWS,
    READ_ONLY,
    READER,
    REFRESHES,
    TOKEN,
    USER,
    blocking,
    lookup,
)
from atomesh.console.cache import ClusterCache
from atomesh.console.forms import cancel_action, refuse_writes_when_read_only, start_action, suspend_action
from atomesh.console.views import (
    FLEET_SORT,
    OverviewMemo,
    QueueFilters,
    filter_queue,
    review_requests,
    sort_fleet,
    timeline,
)
from atomesh.core.supervision import Thresholds
from atomesh.core.supervision_mesh import NEVER, NODE_HEIGHT, NODE_WIDTH, mesh_graph
from atomesh.core.supervision_overview import Overview
from atomesh.kube.client import Kube, KubeError
from atomesh.kube.watch import KubeReader

STATIC = Path(__file__).parent / "static"
CHANGE_POLL_SECONDS = 0.2  # how often the server looks at the cache's generation
HEARTBEAT_SECONDS = 15.0
DEFAULT_ROWS = 200
MAX_ROWS = 5000  # an SSE comment keeps proxies from closing an idle stream

_ENV = Environment(
    loader=PackageLoader("atomesh.console", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(
    age=fmt.age, money=fmt.money, percent=fmt.percent, ratio=fmt.ratio, NODE_WIDTH=NODE_WIDTH, NODE_HEIGHT=NODE_HEIGHT
)


def render(request: web.Request, template: str, **context: Any) -> web.Response:
    """A page; its script refreshes it by fetching it again and taking its `#live` element."""
    app = request.app
    app[PAGE_VIEWS][0] += 1
    cache = app[CACHE]
    now = datetime.now(UTC)
    html = _ENV.get_template(template).render(
        age_since=lambda moment: fmt.age(None if moment is None else max(0.0, (now - moment).total_seconds())),
        token=app[TOKEN],
        user=app[USER],
        read_only=app[READ_ONLY],
        path=request.path,
        query=request.query,
        notice=request.query.get("notice", ""),
        stats=cache.stats,
        invalid=len(cache.invalid),
        **context,
    )
    return web.Response(text=html, content_type="text/html")


def _limit(request: web.Request) -> int:
    """Rows a long list shows (`?limit=`): hundreds of agents make thousands of rows, and a person reads the
    oldest first anyway."""
    try:
        return max(1, min(int(request.query.get("limit", DEFAULT_ROWS)), MAX_ROWS))
    except ValueError:
        return DEFAULT_ROWS


def _overview(request: web.Request) -> Overview:
    """The overview the background task last computed (computed here only before the first one)."""
    memo = request.app[MEMO]
    return memo.current or memo.refresh(request.app[CACHE].snapshot)


async def queue_page(request: web.Request) -> web.Response:
    view = _overview(request)
    filters = QueueFilters.from_query(request.query)
    agents, _, _, _ = request.app[CACHE].snapshot()
    reviewers = review_requests(agents)
    items = filter_queue(view.review_queue, filters, reviewers)
    waiting_on = {name for item in view.review_queue for name in reviewers.get((item.namespace, item.agent), ())}
    choices = {
        "reviewer": sorted(waiting_on),
        "namespace": sorted({item.namespace for item in view.review_queue}),
        "mesh": sorted({item.mesh for item in view.review_queue if item.mesh}),
        "agent": sorted({item.agent for item in view.review_queue}),
        "type": sorted({item.artifact_type for item in view.review_queue if item.artifact_type}),
    }
    return render(
        request, "queue.html", view=view, items=items[: _limit(request)], total=len(items), filters=filters,
        choices=choices,
    )  # fmt: skip


async def attention_page(request: web.Request) -> web.Response:
    view = _overview(request)
    return render(request, "attention.html", view=view, items=view.attention[: _limit(request)])


async def fleet_page(request: web.Request) -> web.Response:
    view = _overview(request)
    key = request.query.get("sort", "agent")
    descending = request.query.get("order", "asc") == "desc"
    rows = sort_fleet(view.fleet, key, descending)
    return render(
        request, "fleet.html", view=view, rows=rows[: _limit(request)], total=len(rows), sort=key,
        descending=descending, columns=FLEET_SORT,
    )  # fmt: skip


async def run_page(request: web.Request) -> web.Response:
    run: AgentRun = lookup(request, "AgentRun")
    events = request.app[CACHE].events_of("AgentRun", run.metadata.namespace or "", run.metadata.name)
    spec = json.dumps(dump(run.spec), indent=2)
    return render(request, "run.html", run=run, events=events, timeline=timeline(run), spec=spec)


async def run_log(request: web.Request) -> web.Response:
    """The last lines of one runner step of a run, read from its pod when a person opens them (one GET of
    `pods/log` under their identity; nothing is read until asked)."""
    run: AgentRun = lookup(request, "AgentRun")
    step = request.match_info["step"]
    if step not in RUNNER_STEPS:
        raise web.HTTPNotFound(text=f"no runner step {step!r}: choose {', '.join(RUNNER_STEPS)}")
    pod = run.status.pod_name if run.status else None
    if not pod:
        return web.Response(text="no runner pod (yet)", status=404)
    reader = request.app[READER]
    try:
        text = await blocking(reader.pod_log, run.metadata.namespace or "", pod, step)
    except KubeError as exc:
        return web.Response(text=f"{exc.reason}: {exc.message}", status=exc.status if exc.status >= 400 else 502)
    return web.Response(text=text or "(no output)", content_type="text/plain")


async def mesh_page(request: web.Request) -> web.Response:
    mesh: Mesh = lookup(request, "Mesh")
    _, _, runs, _ = request.app[CACHE].snapshot()
    graph = mesh_graph(mesh, runs, request.query.get("execution") or None)
    events = request.app[CACHE].events_of("Mesh", mesh.metadata.namespace or "", mesh.metadata.name)
    return render(request, "mesh.html", mesh=mesh, graph=graph, events=events)


async def meshes_page(request: web.Request) -> web.Response:
    _, meshes, _, _ = request.app[CACHE].snapshot()
    meshes.sort(key=lambda mesh: (mesh.metadata.namespace or "", mesh.metadata.name))
    return render(request, "meshes.html", meshes=meshes)


async def agent_page(request: web.Request) -> web.Response:
    agent: Agent = lookup(request, "Agent")
    _, _, runs, _ = request.app[CACHE].snapshot()
    namespace = agent.metadata.namespace or ""
    mine = [run for run in runs if run.agent == agent.metadata.name and run.namespace == namespace]
    mine.sort(key=lambda run: run.created or NEVER, reverse=True)
    schema = json.dumps(agent.spec.input.json_schema, indent=2)
    return render(request, "agent.html", agent=agent, runs=mine[:50], schema=schema, request_id=secrets.token_hex(8))


# --- live updates --------------------------------------------------------------------------------------
async def events_stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `change` whenever the cache changed since the last one sent."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    changed, generation, closing = request.app[CHANGED], request.app[REFRESHES], request.app[CLOSING]
    sent = generation[0]
    try:
        await response.write(b"retry: 1000\n\n")
        while True:
            seen = sent
            async with changed:
                try:
                    await asyncio.wait_for(
                        changed.wait_for(functools.partial(_moved, generation, seen, closing)), HEARTBEAT_SECONDS
                    )
                    woke = True
                except TimeoutError:
                    woke = False
            if closing[0]:  # set by _end_streams while this stream waited
                break
            if not woke:
                await response.write(b": heartbeat\n\n")
                continue
            sent = generation[0]
            await response.write(f"event: change\ndata: {sent}\n\n".encode())
    except ConnectionResetError:  # the page was closed or navigated away
        pass
    return response


def _moved(generation: list[int], seen: int, closing: list[bool]) -> bool:
    return generation[0] != seen or closing[0]


async def _end_streams(app: web.Application) -> None:
    """On shutdown, end the open event streams (their pages reconnect to the next console) rather than
    leave their handlers to be cancelled mid-wait."""
    app[CLOSING][0] = True
    async with app[CHANGED]:
        app[CHANGED].notify_all()


async def _watch_generation(app: web.Application) -> None:
    """Tell the open pages twice about a change: at once (a run's or a mesh's page reads the cache itself),
    and again once the overview behind the queue, attention and fleet was recomputed off the request path."""
    cache, changed, ticks, memo = app[CACHE], app[CHANGED], app[REFRESHES], app[MEMO]
    loop = asyncio.get_running_loop()
    seen = cache.generation
    while True:
        await asyncio.sleep(CHANGE_POLL_SECONDS)
        tell = cache.generation != seen
        seen = cache.generation
        if (memo.generation != seen and memo.due()) or memo.stale():
            before = memo.generation
            await loop.run_in_executor(None, memo.refresh, cache.snapshot)
            tell = tell or memo.generation != before
        if tell:
            ticks[0] += 1
            async with changed:
                changed.notify_all()


async def stats(request: web.Request) -> web.Response:
    """What the cache asked of the API server and how many pages were served (for the benchmark)."""
    cache = request.app[CACHE]
    agents, meshes, runs, generation = cache.snapshot()
    return web.json_response(
        {
            "lists": cache.stats.lists,
            "watches": cache.stats.watches,
            "relists": cache.stats.relists,
            "watchEvents": cache.stats.events,
            "pageViews": request.app[PAGE_VIEWS][0],
            "generation": generation,
            "objects": {"agents": len(agents), "meshes": len(meshes), "agentRuns": len(runs)},
            "errors": list(cache.stats.errors),
        }
    )


async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/queue")


async def healthz(request: web.Request) -> web.Response:
    """Liveness and readiness of a console in a pod: it serves once its cache was listed."""
    return web.Response(text="ok")


def create_app(
    cache: ClusterCache,
    kube: Kube,
    reader: KubeReader,
    user: str = "",
    thresholds: Thresholds | None = None,
    read_only: bool = False,
) -> web.Application:
    """The console over a started `cache`, acting through `kube` and reading logs with `reader` (all under
    the user's identity); `read_only` hides the actions and refuses every POST."""
    app = web.Application(middlewares=[refuse_writes_when_read_only])
    app[READ_ONLY] = read_only
    app[CACHE] = cache
    app[READER] = reader
    app[KUBE] = kube
    app[MEMO] = OverviewMemo(thresholds or Thresholds())
    app[MEMO].refresh(cache.snapshot)  # before the first page asks for it
    app[TOKEN] = secrets.token_urlsafe(24)
    app[USER] = user
    app[REFRESHES] = [0]  # how many times open pages were told to refresh
    app[PAGE_VIEWS] = [0]
    app[CLOSING] = [False]

    async def background(app: web.Application) -> Any:
        app[CHANGED] = asyncio.Condition()
        task = asyncio.create_task(_watch_generation(app))
        yield
        task.cancel()

    app.cleanup_ctx.append(background)
    app.on_shutdown.append(_end_streams)
    for template in _ENV.list_templates(extensions=["html"]):
        _ENV.get_template(template)  # compiled now rather than on someone's first page view
    app.router.add_get("/", index)
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/attention", attention_page)
    app.router.add_get("/fleet", fleet_page)
    app.router.add_get("/meshes", meshes_page)
    app.router.add_get("/runs/{namespace}/{name}", run_page)
    app.router.add_get("/runs/{namespace}/{name}/logs/{step}", run_log)
    app.router.add_get("/meshes/{namespace}/{name}", mesh_page)
    app.router.add_get("/agents/{namespace}/{name}", agent_page)
    app.router.add_post("/actions/cancel", cancel_action)
    app.router.add_post("/actions/suspend", suspend_action)
    app.router.add_post("/agents/{namespace}/{name}/runs", start_action)
    app.router.add_get("/events", events_stream)
    app.router.add_get("/stats", stats)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static", STATIC)
    return app
