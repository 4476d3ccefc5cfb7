"""All handlers of one operator instance, registered into their own kopf registry so several
operators (e.g. before and after a restart in a test) can live in one process; and the workers'
lifetime: started before kopf's watches, drained and joined after them."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any

import kopf

from atomesh.controller import (
    agent,
    agentrun,
    budgets,
    contextsource,
    mesh,
    review,
    runfeed,
    schedule,
    session,
    triggers,
    watchcache,
)
from atomesh.controller.apply import ErrorAnswers
from atomesh.controller.context import OperatorContext
from atomesh.controller.ingress import Ingress
from atomesh.controller.metrics import HttpEndpoint
from atomesh.controller.review import GitHubWebhooks, ReviewForge, ReviewState
from atomesh.controller.runfeed import RunInformers
from atomesh.controller.settings import configure, connection_from_kubeconfig
from atomesh.controller.shards import ShardingOptions, ShardLeases
from atomesh.controller.trigger_polling import EventsPoller, polled_repositories
from atomesh.core.sharding import shard_of
from atomesh.kube.cache import CachedKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, BUDGETS, CONTEXTS, MESHES, PODS, Resource
from atomesh.kube.watch import KubeReader

RUNS_LISTED_WITHIN = 120.0  # seconds the start-up waits for the first LIST of AgentRuns
# The cached kinds kopf's watches feed; AgentRuns come from atomesh's informers (`controller.runfeed`).
KOPF_FED = (AGENTS, MESHES, PODS, BUDGETS)

log = logging.getLogger(__name__)

# What a replica reconciles when it takes a shard over: every object of these kinds in its namespaces.
SHARD_RESYNC: tuple[tuple[Resource, str], ...] = (
    (AGENTS, agent.AGENT),
    (MESHES, mesh.MESH),
    (AGENT_RUNS, agentrun.AGENT_RUN),
    (BUDGETS, budgets.BUDGET),
    (CONTEXTS, contextsource.CONTEXT),
)


def resync_shard(ctx: OperatorContext, shards: int, shard: int, namespaces: Sequence[str]) -> None:
    """Enqueue every object of the shard's namespaces (its last holder may have died halfway), behind new work."""
    for resource, controller in SHARD_RESYNC:
        for namespace in namespaces or ("",):
            for item in ctx.kube.list(resource, namespace):
                meta = item.get("metadata") or {}
                ns = str(meta.get("namespace") or "default")
                if shard_of(ns, shards) == shard:
                    ctx.workers.enqueue(controller, ns, str(meta.get("name")), resync=True)


# The controllers whose unexpected reconcile errors are answered on the object they reconcile
# (Reconciling=True with reason ReconcileError, and one Warning Event), with that object's resource.
# Not the follow-up controllers (rollup, budget release, prune): their errors are logged and retried.
ANSWERED = (
    (agent.AGENT, AGENTS),
    (agentrun.AGENT_RUN, AGENT_RUNS),
    (mesh.MESH, MESHES),
    (contextsource.CONTEXT, CONTEXTS),
    (budgets.BUDGET, BUDGETS),
)


def build_registry(
    ctx: OperatorContext,
    *,
    cache: CachedKube | None = None,
    namespaces: Sequence[str] = (),
    kubeconfig: str | None,
    endpoint: HttpEndpoint | None,
    peering: str | None = None,
    standalone: bool = True,
    forge: ReviewForge | None = None,
    webhook_secret: str | None = None,
    sharding: ShardingOptions | None = None,
    run_reader: KubeReader | None = None,
) -> kopf.OperatorRegistry:
    """Without a forge the review loop is off: runs stay AwaitingReview until one is configured.
    With a `cache`, a LIST of the `namespaces` served (none: all) primes it at start-up and kopf's
    watches feed it after (`controller.watchcache`). AgentRuns reach it and the controllers through
    atomesh's informers reading with `run_reader`; without one, or with `peering`, through kopf's
    watch (`controller.runfeed`)."""
    registry = kopf.OperatorRegistry()
    informers: RunInformers | None = None
    # With peering a standby replica must hear nothing: kopf pauses its own watches, not atomesh's.
    if run_reader is None or peering:
        if cache is not None:
            watchcache.register(registry, cache)
        runfeed.register_kopf_feed(registry, ctx.run_events)
    else:
        if cache is not None:
            watchcache.register(registry, cache, KOPF_FED)
        informers = RunInformers(run_reader, ctx.run_events, cache, namespaces)
    events = triggers.Triggers(ctx, triggers.TriggerIndex(), forge)
    poller = None
    if forge is not None and ctx.config.trigger_poll_interval_seconds > 0:
        poller = EventsPoller(
            forge,
            lambda: polled_repositories(events.index.agents()),
            events.dispatch,
            ctx.config.trigger_poll_interval_seconds,
            now=ctx.clock,
        )
    leases: ShardLeases | None = None
    if sharding is not None:
        leases = ShardLeases(ctx.kube, sharding, lambda shard: resync_shard(ctx, sharding.shards, shard, namespaces))
        ctx.workers.owns = leases.owns

    @kopf.on.startup(registry=registry)
    async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure(settings, peering=peering, standalone=standalone)
        if cache is not None:
            kinds = watchcache.CACHED if informers is None else KOPF_FED
            if await asyncio.to_thread(watchcache.prime, cache, namespaces, kinds):
                cache.mark_synced(*kinds)
        if leases is not None:
            await asyncio.to_thread(leases.start)  # before the runs' first LIST: it enqueues only owned work
        if informers is not None:
            # New work is reconciled while the runs are still listed (a run created now gets its pod
            # now); resyncs wait for the list, and so does a read that needs every run.
            if cache is not None:
                cache.expect_sync(RUNS_LISTED_WITHIN)
            ctx.workers.queue.hold_resync()
            informers.start()
        ctx.workers.start()
        if informers is not None:
            if await asyncio.to_thread(informers.wait_synced, RUNS_LISTED_WITHIN):
                if cache is not None:
                    cache.mark_synced(AGENT_RUNS)
            else:
                log.warning("AgentRuns were not listed within %.0f s: reads go to the API server", RUNS_LISTED_WITHIN)
            ctx.workers.queue.release_resync()
        if poller is not None:
            poller.start()
        if endpoint is not None:
            await endpoint.start()

    @kopf.on.cleanup(registry=registry)
    async def cleanup(**_: Any) -> None:
        if poller is not None:
            await asyncio.to_thread(poller.stop)
        if informers is not None:
            await asyncio.to_thread(informers.stop)
        await asyncio.to_thread(ctx.workers.stop)
        if leases is not None:
            await asyncio.to_thread(leases.stop)
        if endpoint is not None:
            await endpoint.stop()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_from_kubeconfig(kubeconfig)

    state = ReviewState(forge) if forge is not None else None
    agent.register(registry, ctx)
    contextsource.register(registry, ctx)
    agentrun.register(registry, ctx, functools.partial(review.reconcile_review, ctx, state) if state else None)
    schedule.register(registry, ctx)
    mesh.register(registry, ctx)
    budgets.register(registry, ctx)
    ingress = Ingress()
    triggers.register(registry, ctx, events)
    ingress.register(triggers.WebhookTriggers(ctx, events.index, events.dispatch))
    if state is not None:
        review.register(ctx, state)
        session.register(registry, ctx, state.forge, namespaces)
        if webhook_secret:
            ingress.register(GitHubWebhooks(ctx, state, webhook_secret))
            ingress.register(triggers.GitHubTriggers(events.dispatch, webhook_secret))
    for controller, resource in ANSWERED:
        ctx.workers.answer_errors(controller, ErrorAnswers(ctx, resource))
    if endpoint is not None:
        endpoint.add_routes(ingress.routes())
    return registry
