"""How the operator hears of AgentRuns: every controller that follows runs subscribes to one fan-out
(`RunEvents`); the watch cache takes each event first, so a reconcile asked for by an event never
reads an object older than that event.

Two feeds, one contract (an event's type is None when the object was seen in a LIST: a start or a
relist):

- **`RunInformers`** (the default): atomesh's own informers (`kube.informer`), one per namespace
  served, or one for the cluster. Why not kopf's watch: kopf hands its initial LIST over object by
  object, each in a task of its own, so with 20,000 runs a run created during a restart waited
  behind all of them (47 s), and each run cost kopf's per-object bookkeeping in memory. Here a
  LIST is a loop over a list: a restart hands 20,000 runs to the subscribers in about a second,
  and the watch — new work — follows at once.
- **kopf's watch**, with kopf peering only: a standby replica must hear nothing, and kopf pauses
  its own watches when a peer of higher priority is active, which atomesh's informers cannot see.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body
from atomesh.kube.informer import Informer
from atomesh.kube.resources import AGENT_RUNS
from atomesh.kube.watch import KubeReader

log = logging.getLogger(__name__)

RunEventHandler = Callable[[str | None, Body], None]


class RunEvents:
    """The subscribers to AgentRun events, called in the order they subscribed. A subscriber maps an
    event to work (enqueue, metrics): quick, thread-safe, never raising."""

    def __init__(self) -> None:
        self._handlers: list[RunEventHandler] = []

    def subscribe(self, handler: RunEventHandler) -> None:
        self._handlers.append(handler)

    def dispatch(self, type: str | None, body: Body) -> None:
        for handler in self._handlers:
            try:
                handler(type, body)
            except Exception:  # one subscriber's bug must not starve the others of the event
                meta = body.get("metadata") or {}
                log.exception("a subscriber failed on AgentRun %s/%s", meta.get("namespace"), meta.get("name"))


class _Scope:
    """The informer handler of one scope: the cache first, then the subscribers. The watch's events
    may arrive while a LIST is handed over: an object the watch reported meanwhile is newer than
    the LIST's copy, which is then skipped (one lock orders the two per object)."""

    def __init__(self, cache: CachedKube | None, events: RunEvents, namespace: str | None) -> None:
        self._cache = cache
        self._events = events
        self._namespace = namespace
        self._lock = threading.Lock()
        self._watched: set[tuple[str, str]] | None = None  # during a LIST: the keys the watch reported

    def listed(self, items: Iterable[Body], version: str) -> None:
        # Each object is cached, then dispatched, as its page arrives: the list is never held whole.
        with self._lock:
            self._watched = set()
        listed: set[tuple[str, str]] = set()
        try:
            for body in items:
                key = _key(body)
                listed.add(key)
                with self._lock:
                    if key in (self._watched or ()):
                        continue
                    if self._cache is not None:
                        self._cache.observe(AGENT_RUNS, body)
                    self._events.dispatch(None, body)
            with self._lock:
                if self._cache is not None:
                    for body in self._cache.drop_unlisted(AGENT_RUNS, self._namespace, listed, version):
                        self._events.dispatch("DELETED", body)  # deleted while no watch saw it
        finally:
            with self._lock:
                self._watched = None

    def changed(self, type: str, body: Body) -> None:
        with self._lock:
            if self._watched is not None:
                self._watched.add(_key(body))
            if self._cache is not None:
                if type == "DELETED":
                    self._cache.forget(AGENT_RUNS, body)
                else:
                    self._cache.observe(AGENT_RUNS, body)
            self._events.dispatch(type, body)


def _key(body: Body) -> tuple[str, str]:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class RunInformers:
    """AgentRuns of the namespaces served (none: the whole cluster), through atomesh's informers."""

    def __init__(
        self, reader: KubeReader, events: RunEvents, cache: CachedKube | None, namespaces: Sequence[str]
    ) -> None:
        self.informers = [
            Informer(reader, AGENT_RUNS, namespace, _Scope(cache, events, namespace))
            for namespace in (namespaces or (None,))
        ]
        self._reader = reader

    def start(self) -> None:
        """Start listing and watching (each scope in threads of its own)."""
        for informer in self.informers:
            informer.start()

    def wait_synced(self, timeout: float | None = None) -> bool:
        """True once every scope's first LIST was handed over, within `timeout` seconds."""
        return all(informer.wait_synced(timeout) for informer in self.informers)

    def stop(self) -> None:
        stoppers = [threading.Thread(target=informer.stop) for informer in self.informers]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        self._reader.close()


def register_kopf_feed(registry: kopf.OperatorRegistry, events: RunEvents) -> None:
    """Feed `events` from kopf's own watch of AgentRuns (with kopf peering; the watch cache's kopf
    handler, registered before, has taken the event first)."""

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, id="run-events", registry=registry)
    async def run_event(*, type: str | None, body: kopf.Body, **_: Any) -> None:
        events.dispatch(type, dict(body))
