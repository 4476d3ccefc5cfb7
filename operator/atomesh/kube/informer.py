"""An informer (client-go's reflector and shared informer, for one resource in one scope): LIST,
then WATCH from the list's resourceVersion, in a thread of its own, handing every change to
its handler in the order the server sent it.

Invariants:

- **Every object of the scope reaches the handler.** `listed(items, version)` with the whole scope after
  each LIST (the first one, and every relist after a watch expired with 410 Gone: objects absent
  from it were deleted meanwhile), then `changed(type, object)` for each ADDED, MODIFIED and
  DELETED event of the watch. Bookmarks only move the resourceVersion to resume from.
- **Resumed, not restarted.** A watch the server ends (its timeout) is resumed from the last
  resourceVersion seen; only an expired one (410) costs a new LIST.
- **Never gives up while running.** A failed LIST or WATCH is retried after a delay that doubles
  per failure in a row (`retry_initial` to `retry_maximum`), as client-go's backoff manager does;
  so is a handler that raised (its traceback logged), with a new LIST.
- `synced` is set once the first LIST has been handed over; `stop` ends the watch in progress.
- The handler runs in the informer's thread: it must be quick and thread-safe, as client-go's
  event handlers must be (enqueue work, update a cache), never a reconcile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import Resource
from atomesh.kube.watch import GONE, KubeReader

log = logging.getLogger(__name__)
# Unpaged, as client-go's reflector first lists (resourceVersion 0, which the API server answers whole
# from its watch cache): pages are read from etcd one by one, so for thousands of objects they only
# add round trips; `page_size` pages where a server's memory per answer matters more.
PAGE_SIZE = 0


class InformerHandler(Protocol):
    def listed(self, items: list[Body], version: str) -> None:
        """Every object of the scope, as a LIST at resourceVersion `version` just returned it."""
        ...

    def changed(self, type: str, body: Body) -> None:
        """One watch event: ADDED, MODIFIED or DELETED."""
        ...


class Informer:
    """`resource` in `namespace` (None: the whole cluster), optionally only objects with `labels`
    (a value of None: the label is present)."""

    def __init__(
        self,
        reader: KubeReader,
        resource: Resource,
        namespace: str | None,
        handler: InformerHandler,
        *,
        labels: Mapping[str, str | None] | None = None,
        page_size: int = PAGE_SIZE,
        watch_timeout_seconds: int = 300,
        retry_initial: float = 1.0,
        retry_maximum: float = 30.0,
    ) -> None:
        self.reader = reader
        self.resource = resource
        self.namespace = namespace
        self._handler = handler
        self._labels = dict(labels) if labels else None
        self._page_size = page_size
        self._watch_timeout = watch_timeout_seconds
        self._retry = (retry_initial, retry_maximum)
        self._failures = 0
        self._stop = threading.Event()
        self._synced = threading.Event()
        self._thread: threading.Thread | None = None
        self.lists = 0  # LISTs made (the first and every relist), for tests and benchmarks
        self.watches = 0

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def wait_synced(self, timeout: float | None = None) -> bool:
        return self._synced.wait(timeout)

    def start(self) -> Informer:
        scope = self.namespace or "all"
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.resource.plural}-{scope}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.reader.stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._list_and_watch()
            except Exception as exc:  # a handler's bug or an answer that could not be read: list again, later
                log.exception("the informer of %s failed", self.resource.plural)
                self._failed("handling", exc)

    def _list_and_watch(self) -> None:
        try:
            items, version = self.reader.list(
                self.resource, self.namespace, labels=self._labels, page_size=self._page_size
            )
        except KubeError as exc:
            self._failed("listing", exc)
            return
        self.lists += 1
        self._handler.listed(items, version)
        self._failures = 0
        self._synced.set()
        self._follow(version)

    def _follow(self, version: str) -> None:
        """WATCH from `version` until it expires (the caller relists) or the informer stops."""
        while not self._stop.is_set():
            self.watches += 1
            try:
                for event in self.reader.watch(
                    self.resource, self.namespace, version, self._watch_timeout, labels=self._labels
                ):
                    version = str((event.object.get("metadata") or {}).get("resourceVersion") or version)
                    self._failures = 0
                    if event.type != "BOOKMARK":
                        self._handler.changed(event.type, event.object)
            except KubeError as exc:
                if exc.status == GONE:
                    log.info("the watch of %s expired: listing again", self.resource.plural)
                    return
                self._failed("watching", exc)

    def _failed(self, doing: str, exc: Exception) -> None:
        if self._stop.is_set():
            return
        initial, maximum = self._retry
        delay = min(maximum, initial * 2 ** min(self._failures, 16))
        self._failures += 1
        log.warning("%s %s failed (%s); retrying in %.0f s", doing, self.resource.plural, exc, delay)
        self._stop.wait(delay)
