"""Objects in memory, one global resourceVersion counter, a bounded event history and live watchers.

Every write bumps the counter by one and produces exactly one event, so an event's position in
the history is `rv - first_rv`: resuming a watch is an index, not a scan. Stored objects are never
mutated after `put` (writers build new dicts), so their JSON is encoded once and shared by GET,
LIST and every watcher.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from atomesh.devstack.kube.resources import GroupResource

Obj = dict[str, Any]
Key = tuple[GroupResource, str, str]  # (group/resource, namespace, name)


def encode(obj: Obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Stored:
    """An immutable stored object and its JSON encoding, computed at most once."""

    __slots__ = ("_raw", "obj")

    def __init__(self, obj: Obj) -> None:
        self.obj = obj
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = encode(self.obj)
        return self._raw


class Event:
    """One write as watchers see it; `prev` lets selector watchers turn a MODIFIED into ADDED/DELETED."""

    __slots__ = ("gr", "namespace", "prev", "rv", "stored", "type")

    def __init__(self, type_: str, rv: int, gr: GroupResource, namespace: str, stored: Stored, prev: Obj | None):
        self.type = type_
        self.rv = rv
        self.gr = gr
        self.namespace = namespace
        self.stored = stored
        self.prev = prev


class Persistence(Protocol):
    def save(self, key: Key, stored: Stored, rv: int) -> None: ...
    def delete(self, key: Key, rv: int) -> None: ...


class Watcher:
    """A live watch: the store pushes matching events into `queue` synchronously at write time."""

    __slots__ = ("gr", "matches", "namespace", "queue")

    def __init__(self, gr: GroupResource, namespace: str | None, matches: Callable[[Obj], bool]) -> None:
        self.gr = gr
        self.namespace = namespace
        self.matches = matches
        self.queue: asyncio.Queue[tuple[str, Event]] = asyncio.Queue()

    def translate(self, event: Event) -> str | None:
        """The event type this watcher sees (selectors move objects in and out of view), or None."""
        if self.namespace is not None and event.namespace != self.namespace:
            return None
        now = self.matches(event.stored.obj)
        if event.type != "MODIFIED" or event.prev is None:
            return event.type if now else None
        before = self.matches(event.prev)
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None


SNAPSHOTS_KEPT = 8  # paged LISTs in progress at once whose pages are served from memory


class Store:
    def __init__(self, history_limit: int = 10_000, persistence: Persistence | None = None, rv: int = 0) -> None:
        self.rv = rv
        self.objects: dict[GroupResource, dict[str, dict[str, Stored]]] = {}
        self.history: deque[Event] = deque(maxlen=history_limit)
        self.watchers: dict[GroupResource, set[Watcher]] = {}
        self.dependents: dict[str, set[Key]] = {}  # owner uid -> keys of objects that name it
        self.uids: dict[str, Key] = {}  # uid -> key of the live object (garbage collection asks "is it alive?")
        self.persistence = persistence
        # A snapshot at a resourceVersion never changes: the pages of one paged LIST share it.
        self._snapshots: OrderedDict[tuple[GroupResource, str | None, int], list[Stored]] = OrderedDict()

    # reads
    def get(self, gr: GroupResource, namespace: str, name: str) -> Stored | None:
        return self.objects.get(gr, {}).get(namespace, {}).get(name)

    def iter(self, gr: GroupResource, namespace: str | None) -> Iterator[Stored]:
        """Objects in key order (namespace, name), like etcd returns them."""
        by_ns = self.objects.get(gr, {})
        namespaces = [namespace] if namespace is not None else sorted(by_ns)
        for ns in namespaces:
            names = by_ns.get(ns, {})
            for name in sorted(names):
                yield names[name]

    def count(self, gr: GroupResource, namespace: str | None = None) -> int:
        by_ns = self.objects.get(gr, {})
        if namespace is not None:
            return len(by_ns.get(namespace, {}))
        return sum(len(v) for v in by_ns.values())

    def namespaces_used(self) -> Iterator[tuple[GroupResource, str]]:
        for gr, by_ns in self.objects.items():
            for ns, names in by_ns.items():
                if names:
                    yield gr, ns

    # writes: each bumps the counter by exactly one and emits exactly one event
    def put(self, gr: GroupResource, obj: Obj, event_type: str, prev: Obj | None = None) -> Stored:
        """Store `obj` under the next resourceVersion (set into it) and emit its event."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        self.rv += 1
        rv = self.rv
        meta["resourceVersion"] = str(rv)
        stored = Stored(obj)
        self.objects.setdefault(gr, {}).setdefault(namespace, {})[meta["name"]] = stored
        key: Key = (gr, namespace, meta["name"])
        if meta.get("uid"):
            self.uids[meta["uid"]] = key
        self._index_owners(key, prev, obj)
        if self.persistence is not None:
            self.persistence.save(key, stored, rv)
        self._emit(Event(event_type, rv, gr, namespace, stored, prev))
        return stored

    def remove(self, gr: GroupResource, obj: Obj) -> Stored:
        """Drop the object; `obj` (a fresh dict of its final state) gets the delete's resourceVersion."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        names = self.objects.get(gr, {}).get(namespace, {})
        names.pop(meta["name"], None)
        key: Key = (gr, namespace, meta["name"])
        self._index_owners(key, obj, None)
        self.uids.pop(meta.get("uid", ""), None)
        self.rv += 1
        rv = self.rv
        meta["resourceVersion"] = str(rv)
        stored = Stored(obj)
        if self.persistence is not None:
            self.persistence.delete(key, rv)
        self._emit(Event("DELETED", rv, gr, namespace, stored, None))
        return stored

    def load(self, gr: GroupResource, obj: Obj) -> None:
        """Restore an object from disk: no event, no new resourceVersion."""
        meta = obj["metadata"]
        namespace = meta.get("namespace", "")
        self.objects.setdefault(gr, {}).setdefault(namespace, {})[meta["name"]] = Stored(obj)
        self._index_owners((gr, namespace, meta["name"]), None, obj)
        if meta.get("uid"):
            self.uids[meta["uid"]] = (gr, namespace, meta["name"])

    def _index_owners(self, key: Key, old: Obj | None, new: Obj | None) -> None:
        old_uids = {r.get("uid") for r in (old or {}).get("metadata", {}).get("ownerReferences") or []}
        new_uids = {r.get("uid") for r in (new or {}).get("metadata", {}).get("ownerReferences") or []}
        for uid in old_uids - new_uids:
            deps = self.dependents.get(str(uid))
            if deps is not None:
                deps.discard(key)
                if not deps:
                    del self.dependents[str(uid)]
        for uid in new_uids - old_uids:
            self.dependents.setdefault(str(uid), set()).add(key)

    def _emit(self, event: Event) -> None:
        self.history.append(event)
        for watcher in self.watchers.get(event.gr, ()):
            seen = watcher.translate(event)
            if seen is not None:
                watcher.queue.put_nowait((seen, event))

    # watch support
    def events_since(self, rv: int) -> Iterable[Event] | None:
        """Events newer than `rv`, or None when `rv` is older than the history keeps (410 Expired)."""
        if rv >= self.rv:
            return ()
        if not self.history:
            return None
        first = self.history[0].rv
        if rv < first - 1:
            return None
        return itertools.islice(self.history, rv + 1 - first, None)

    def snapshot(self, gr: GroupResource, namespace: str | None, rv: int) -> list[Stored] | None:
        """The objects of `gr` (in `namespace`, None: all) as they were at resourceVersion `rv`, in key
        order: the current ones with the history's later writes undone (etcd serves a paged LIST's
        continue at the first page's revision). None when the history no longer reaches back to `rv`
        (etcd compacted it): the caller answers 410 Expired."""
        events = self.events_since(rv)
        if events is None:
            return None
        memo = (gr, namespace, rv)
        if memo in self._snapshots:
            return self._snapshots[memo]
        objects = {
            (s.obj["metadata"].get("namespace", ""), s.obj["metadata"]["name"]): s for s in self.iter(gr, namespace)
        }
        for event in reversed([e for e in events if e.gr == gr]):
            if namespace is not None and event.namespace != namespace:
                continue
            key = (event.namespace, event.stored.obj["metadata"]["name"])
            if event.type == "ADDED":
                objects.pop(key, None)
            elif event.type == "DELETED":
                objects[key] = event.stored
            elif event.prev is not None:
                objects[key] = Stored(event.prev)
            else:
                return None
        snapshot = [objects[key] for key in sorted(objects)]
        self._snapshots[memo] = snapshot
        while len(self._snapshots) > SNAPSHOTS_KEPT:
            self._snapshots.popitem(last=False)
        return snapshot

    def subscribe(self, watcher: Watcher) -> None:
        self.watchers.setdefault(watcher.gr, set()).add(watcher)

    def unsubscribe(self, watcher: Watcher) -> None:
        self.watchers.get(watcher.gr, set()).discard(watcher)

    def drop_group_resource(self, gr: GroupResource) -> list[Stored]:
        """Everything stored under `gr`, for the caller to delete (CRD removal)."""
        return [s for by_name in self.objects.get(gr, {}).values() for s in by_name.values()]
