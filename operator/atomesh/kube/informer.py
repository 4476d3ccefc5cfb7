"""An informer (client-go's reflector and shared informer, for one resource in one scope): LIST,
then WATCH from the list's resourceVersion, in a thread of its own, handing every change to
its handler in the order the server sent it.

Invariants:

- **Every object of the scope reaches the handler.** `listed(items, version)` with the whole scope after
  each LIST (the first one, and every relist after a watch expired with 410 Gone: objects absent
  from it were deleted meanwhile), then `changed(type, object)` for each ADDED, MODIFIED and
  DELETED event of the watch. Bookmarks only move the resourceVersion to resume from.
- **A page at a time.** The LIST is read in pages of `page_size` (client-go's pager, 500), and
  `items` yields each page's objects as it arrives: a scope of 20,000 objects is never decoded at
  once (a whole answer decoded took more memory than the cache of every object it holds). A page
  that fails comes out of the iteration; its LIST is made again (at once and unpaged when its
  continue token expired, as client-go's pager does).
- **Resumed, not restarted.** A watch the server ends (its timeout) is resumed from the last
  resourceVersion seen; only an expired one (410) costs a new LIST.
- **Never gives up while running.** A failed LIST or WATCH is retried after a delay that doubles
  per failure in a row (`retry_initial` to `retry_maximum`), as client-go's backoff manager does;
  so is a handler that raised (its traceback logged), with a new LIST.
- **Changes do not wait for the LIST.** The watch starts from the first page's resourceVersion,
  in a thread of its own, while the pages are still being read: an object created during a LIST
  of 20,000 is handed over at once, not after it. So `changed` may run while `listed` runs; the
  watch's news of an object is newer than any page's (the pages show the first page's version).
- `synced` is set once the first LIST has been handed over; `stop` ends the watch in progress.
- The handler runs in the informer's threads: it must be quick and thread-safe, as client-go's
  event handlers must be (enqueue work, update a cache), never a reconcile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import Resource
from atomesh.kube.watch import GONE, KubeReader

log = logging.getLogger(__name__)
# client-go's pager's page size: a few megabytes of objects per answer at most.
PAGE_SIZE = 500


class InformerHandler(Protocol):
    def listed(self, items: Iterable[Body], version: str) -> None:
        """Every object of the scope, as a LIST at resourceVersion `version` returns it, page by page as
        `items` is iterated (once). A KubeError out of the iteration (a later page failed) must be let
        through: the informer lists again. `changed` may be called meanwhile, with newer versions."""
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
        page_size = self._page_size
        while True:
            pages = self.reader.pages(self.resource, self.namespace, labels=self._labels, page_size=page_size)
            try:
                first, version = next(pages)
            except KubeError as exc:
                self._failed("listing", exc)
                return
            self.lists += 1
            # The watch starts from the first page's resourceVersion now, not after the last page:
            # what changes during a LIST of thousands reaches the handler at once.
            follower = _Follower(self, version)
            follower.start()
            try:
                self._handler.listed(_items(first, pages), version)
            except KubeError as exc:
                follower.abandon()
                if exc.status == GONE and page_size > 0:
                    log.info("the LIST of %s outlived its continue token: listing again, unpaged", self.resource.plural)
                    page_size = 0
                    continue
                self._failed("listing", exc)
                return
            except BaseException:
                follower.abandon()
                raise
            break
        self._failures = 0
        self._synced.set()
        follower.join()  # until the watch expires (410: list again) or the informer stops
        if follower.error is not None:
            raise follower.error

    def _follow(self, version: str, follower: _Follower) -> None:
        """WATCH from `version` until it expires (the caller relists), the informer stops or the
        follower is abandoned (its LIST failed)."""
        while not (self._stop.is_set() or follower.abandoned()):
            self.watches += 1
            try:
                for event in self.reader.watch(
                    self.resource, self.namespace, version, self._watch_timeout, labels=self._labels
                ):
                    if follower.abandoned():
                        return
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


def _items(first: list[Body], pages: Iterator[tuple[list[Body], str]]) -> Iterator[Body]:
    """The objects of the first page, then of each later page as it is read."""
    yield from first
    for page, _ in pages:
        yield from page


class _Follower(threading.Thread):
    """The watch of one LIST, in a thread of its own from the LIST's first page on."""

    def __init__(self, informer: Informer, version: str) -> None:
        scope = informer.namespace or "all"
        super().__init__(name=f"informer-{informer.resource.plural}-{scope}-watch", daemon=True)
        self._informer = informer
        self._version = version
        self._abandoned = threading.Event()
        self.error: Exception | None = None  # a handler's bug: the informer lists again

    def abandoned(self) -> bool:
        return self._abandoned.is_set()

    def abandon(self) -> None:
        """Its LIST failed: hand nothing more over (the open watch ends at its next event)."""
        self._abandoned.set()

    def run(self) -> None:
        try:
            self._informer._follow(self._version, self)
        except Exception as exc:
            log.exception("the watch of %s failed", self._informer.resource.plural)
            self.error = exc
