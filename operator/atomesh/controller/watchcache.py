"""Feeds the operator's watch cache (`atomesh.kube.cache.CachedKube`) with the kinds kopf watches:
one LIST per kind at start-up (`prime`), then every event of the watches kopf already holds.
AgentRuns, the kind with the most objects, come from atomesh's own informers instead
(`controller.runfeed`), except with kopf peering.

Why kopf's watches and not an informer of our own: kopf lists and watches these kinds anyway, and
its event handlers for one object run in order, the cache's first (it is registered first), before
the handlers that enqueue a reconcile for that event — so a reconcile never reads an object older
than the event that asked for it (a second watch could lag behind kopf's), and the API server
serves no second WATCH per kind. Why not kopf's index handlers, whose readiness would prove the
cache complete: kopf holds every object's handlers until all are indexed, waking every waiting
object at each one indexed — quadratic; with 25,000 objects a start-up never ends.

The start-up LIST makes misses answers ("does not exist") from the first reconcile on. Known gap:
an object deleted between that LIST and kopf's own, or while a watch is re-listed after it expired
(410 Gone), stays cached until the next restart, since no DELETED event reports it; reconciles of
such a ghost are not asked for (kopf has no event for it), and writes to it find it gone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import KubeError
from atomesh.kube.resources import AGENT_RUNS, AGENTS, BUDGETS, MESHES, PODS, Resource

log = logging.getLogger(__name__)
CACHED = (AGENTS, AGENT_RUNS, MESHES, PODS, BUDGETS)
# Only runner pods are cached: the operator reads no other pods.
RUNNER_PODS: dict[str, Any] = {k.LABEL_RUN: kopf.PRESENT, k.LABEL_COMPONENT: "runner"}


def prime(cache: CachedKube, namespaces: Sequence[str], kinds: Sequence[Resource] = CACHED) -> bool:
    """One LIST per kind of `kinds` (per namespace served; all namespaces when none is named); False
    if the API server could not answer. Once they are listed, the caller marks these kinds synced and
    the cache answers their misses itself; until then reads of objects it has not seen go to the API
    server, correct but slower."""
    try:
        for resource in kinds:
            labels = {k.LABEL_COMPONENT: "runner"} if resource is PODS else None
            for namespace in namespaces or ("",):
                for body in cache.api.list(resource, namespace, labels):
                    cache.observe(resource, body)
    except KubeError as exc:
        log.warning("the watch cache could not list at start-up (%s): reads go to the API server until restart", exc)
        return False
    return True


def register(registry: kopf.OperatorRegistry, cache: CachedKube, kinds: Sequence[Resource] = CACHED) -> None:
    """Feed `kinds` from kopf's watches. Call before registering any other handler: kopf runs an
    object's event handlers in order."""
    for resource in kinds:
        _feed(registry, cache, resource)


def _feed(registry: kopf.OperatorRegistry, cache: CachedKube, resource: Resource) -> None:
    labels: Mapping[str, Any] | None = RUNNER_PODS if resource is PODS else None

    @kopf.on.event(
        resource.group,
        resource.version,
        resource.plural,
        labels=labels,
        id=f"cache-{resource.plural}",
        registry=registry,
    )
    async def cache_event(*, type: str | None, body: kopf.Body, **_: Any) -> None:
        if type == "DELETED":
            cache.forget(resource, body)
        else:
            cache.observe(resource, body)
