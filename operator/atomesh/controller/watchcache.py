"""Feeds the operator's watch cache (`atomesh.kube.cache.CachedKube`) from the watches kopf holds.

Why kopf's watches and not an informer of our own: kopf already lists and watches these kinds, and
it calls index handlers for every object *before* any other handler sees it and holds every other
handler back until the initial lists of all indexed kinds are indexed. So (1) an event that
enqueues a reconcile is always in the cache before the reconcile reads it (a second watch could lag
behind kopf's and hand a reconcile an older object than the one that triggered it), (2) the first
non-index handler call proves the cache complete, and (3) no second LIST+WATCH per kind loads the
API server. kopf's own index stays empty: the handlers return None.

Known gap: after kopf re-lists (a watch expired with 410 Gone), objects deleted during the gap stay
cached until the next restart, as kopf reports no deletion for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.kube.cache import CachedKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, PODS, Resource

# Only runner pods are cached (and watched): the operator reads no other pods.
RUNNER_PODS: dict[str, Any] = {k.LABEL_RUN: kopf.PRESENT, k.LABEL_COMPONENT: "runner"}


def register(registry: kopf.OperatorRegistry, cache: CachedKube) -> None:
    for resource in (AGENTS, AGENT_RUNS, MESHES, PODS):
        _feed(registry, cache, resource)


def _feed(registry: kopf.OperatorRegistry, cache: CachedKube, resource: Resource) -> None:
    labels: Mapping[str, Any] | None = RUNNER_PODS if resource is PODS else None

    @kopf.index(
        resource.group,
        resource.version,
        resource.plural,
        labels=labels,
        id=f"cache-{resource.plural}",
        registry=registry,
    )
    def cache_object(*, body: kopf.Body, **_: Any) -> None:
        cache.observe(resource, body)

    @kopf.on.event(
        resource.group,
        resource.version,
        resource.plural,
        labels=labels,
        id=f"cache-{resource.plural}-events",
        registry=registry,
    )
    def cache_event(*, type: str | None, body: kopf.Body, **_: Any) -> None:
        # kopf runs no event handler before every indexed kind's initial list is in the cache.
        cache.mark_synced()
        if type == "DELETED":
            cache.forget(resource, body)
