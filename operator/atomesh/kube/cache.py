"""A watch-fed cache behind the Kubernetes port: `CachedKube` answers the reads of the kinds it
caches from memory and writes through to the API server.

Invariants:

- **Fed by watches.** `observe` takes every object a watch delivers (the initial LIST included) and
  `forget` every deletion; once the feeder says a kind's initial list is complete (`mark_synced`),
  a miss is an answer ("does not exist"), so reconciles issue no GET or LIST for cached kinds.
  Before that, a read that needs the kind whole (a miss, a list) waits for that list while one is
  expected (`expect_sync`), else falls through to the API server (counted in `api_reads`).
- **Never older than what this process wrote.** A write's response is stored like a watch event;
  an object replaces the cached one only when its resourceVersion is newer, so a watch event that
  arrives after our own write never rolls the cache back (read-your-writes).
- **Deleted stays deleted.** A delete through this port drops the object and remembers its last
  resourceVersion, so a late event of the same or an older version does not bring it back.
- **Callers get copies** from `get`; `list` returns the cached objects themselves for speed:
  listed objects are read-only. Kinds cached `packed` are kept as compressed JSON (`_Packer`),
  without `managedFields`, and unpacked on every read, `list` included: a decoded object takes
  four to five times the memory of its JSON text, and an unpack is quicker than the deep copy a
  `get` made. A list of every object of a packed kind unpacks them all, so hot paths read through
  an index.
- Lists by an indexed label (`indexed_labels`, e.g. the mesh of a run) look up that label's
  index instead of scanning every object of the kind, and so does `indexed` for a value an
  `indexers` function files each object under (the Agent a run names): client-go's indexers.
- A kind may be cached for the objects carrying certain labels only (runner pods): the feeder
  watches with that selector, and the operator reads only such objects of that kind.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from atomesh.kube.client import Body, Kube
from atomesh.kube.resources import Resource

Key = tuple[str, str]  # (namespace, name)
# A value an object is filed under (None: none), for `CachedKube.indexed`.
Indexer = Callable[[Mapping[str, Any]], str | None]
# Metadata no reconcile reads and that would double an object's size in memory (client-go's informers
# are given the same transform).
BULKY_METADATA = frozenset({"managedFields"})
ZDICT_LIMIT = 32 * 1024  # zlib uses at most this much of a dictionary (its window)


def _version(body: Mapping[str, Any] | None) -> int | None:
    """The resourceVersion as a number; None when absent or opaque (then the newest arrival wins)."""
    value = ((body or {}).get("metadata") or {}).get("resourceVersion")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _key(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _labelled(labels: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())


def _slim(body: Mapping[str, Any]) -> Body:
    """A shallow copy of the object without bulky metadata (kopf hands over Mapping views: as a dict)."""
    plain = dict(body)
    meta = plain.get("metadata")
    if isinstance(meta, Mapping) and not BULKY_METADATA.isdisjoint(meta):
        plain["metadata"] = {key: value for key, value in meta.items() if key not in BULKY_METADATA}
    return plain


class _Packer:
    """Packs the objects of one kind as compressed JSON: zlib, against a dictionary made of the first
    object packed. Objects of a kind repeat the same keys and most values (a run's status carries its
    Agent's spec), so each packs to a fraction of its text. A pack or an unpack takes microseconds."""

    def __init__(self) -> None:
        self._dictionary: bytes | None = None

    def pack(self, body: Body) -> bytes:
        text = json.dumps(body, separators=(",", ":"), default=dict).encode()
        if self._dictionary is None:
            self._dictionary = text[-ZDICT_LIMIT:]  # zlib reads a dictionary's end first
        packer = zlib.compressobj(1, zdict=self._dictionary)
        return packer.compress(text) + packer.flush()

    def unpack(self, packed: bytes) -> Body:
        unpacker = zlib.decompressobj(zdict=self._dictionary or b"")
        body: Body = json.loads(unpacker.decompress(packed))
        return body


class _Entry:
    """A cached object: decoded (`body`) or packed, with what lookups read without unpacking it."""

    __slots__ = ("body", "index_values", "labels", "packed", "packer", "version")

    def __init__(
        self, body: Mapping[str, Any], packer: _Packer | None, index_values: tuple[tuple[str, str], ...]
    ) -> None:
        self.version = _version(body)
        self.labels: Mapping[str, str] = dict((body.get("metadata") or {}).get("labels") or {})
        self.index_values = index_values  # (index, value): the indexes it is filed under
        slim = _slim(body)
        self.packer = packer
        self.body: Body | None = None if packer is not None else slim
        self.packed: bytes = packer.pack(slim) if packer is not None else b""

    def shared(self) -> Body:
        """The object for a read-only caller: the cached one itself, or an unpacked copy of a packed one."""
        return self.body if self.body is not None else self._unpack()

    def copy(self) -> Body:
        return copy.deepcopy(self.body) if self.body is not None else self._unpack()

    def _unpack(self) -> Body:
        assert self.packer is not None
        return self.packer.unpack(self.packed)


class CachedKube:
    """The Kube port over `api`, with `kinds` served from memory (`packed` ones compressed)."""

    def __init__(
        self,
        api: Kube,
        kinds: Iterable[Resource],
        indexed_labels: Iterable[str] = (),
        *,
        packed: Iterable[Resource] = (),
        indexers: Mapping[Resource, Mapping[str, Indexer]] | None = None,
    ) -> None:
        self.api = api
        self._stores: dict[str, dict[Key, _Entry]] = {kind.plural: {} for kind in kinds}
        self._packers = {kind.plural: _Packer() for kind in packed}
        self._indexed = frozenset(indexed_labels)
        self._indexers = {kind.plural: dict(by_name) for kind, by_name in (indexers or {}).items()}
        # (plural, index, value) -> keys; an indexed label's index is named by the label.
        self._index: dict[tuple[str, str, str], set[Key]] = {}
        self._deleted: dict[tuple[str, Key], int] = {}
        self._lock = threading.Lock()
        self._synced = {kind.plural: threading.Event() for kind in kinds}
        self._sync_deadline = 0.0  # monotonic: until then, reads that need a kind whole wait for its list
        self.api_reads = 0  # reads of cached kinds that went to the API server (before the sync)

    # -- the feed ---------------------------------------------------------------------------

    def caches(self, resource: Resource) -> bool:
        return resource.plural in self._stores

    @property
    def synced(self) -> bool:
        """Every cached kind's initial list has been observed."""
        return all(event.is_set() for event in self._synced.values())

    def mark_synced(self, *resources: Resource) -> None:
        """The initial lists of `resources` (none: every cached kind) have been observed."""
        for plural in [resource.plural for resource in resources] or list(self._synced):
            self._synced[plural].set()

    def expect_sync(self, within: float) -> None:
        """Initial lists are being read: for `within` seconds, a read that needs a kind not yet synced
        whole (a miss, a list) waits for its list rather than asking the API server."""
        self._sync_deadline = time.monotonic() + within

    def _complete(self, plural: str) -> bool:
        """Whether the cache holds every object of the kind (waiting for its initial list if one is expected)."""
        event = self._synced[plural]
        return event.is_set() or event.wait(max(0.0, self._sync_deadline - time.monotonic()))

    def _index_values(self, plural: str, body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        labels = (body.get("metadata") or {}).get("labels") or {}
        values = [(label, value) for label, value in labels.items() if label in self._indexed]
        for name, indexer in (self._indexers.get(plural) or {}).items():
            value = indexer(body)
            if value is not None:
                values.append((name, value))
        return tuple(values)

    def observe(self, resource: Resource, body: Mapping[str, Any]) -> None:
        """An object as a watch (or a write's response) shows it; kept unless older than the cached one."""
        store = self._stores.get(resource.plural)
        if store is None:
            return
        key, version = _key(body), _version(body)
        with self._lock:
            gone = self._deleted.get((resource.plural, key))
            if gone is not None:
                if version is None or version <= gone:
                    return
                del self._deleted[(resource.plural, key)]
            cached = store.get(key)
            current = cached.version if cached is not None else None
            if current is not None and version is not None and version <= current:
                return  # older, or the same version again (kopf's LIST after the start-up one): kept as it is
            entry = _Entry(body, self._packers.get(resource.plural), self._index_values(resource.plural, body))
            # One assignment replaces the object: `get` reads without the lock and must find the old
            # object or the new one, never none (a running run's pod read as missing is a lost pod).
            store[key] = entry
            if cached is not None:
                self._unindex(resource.plural, key, cached)
            for name, value in entry.index_values:
                self._index.setdefault((resource.plural, name, value), set()).add(key)

    def _drop(self, plural: str, store: dict[Key, _Entry], key: Key) -> _Entry | None:
        """Remove the object from the store and its indexes (the lock held)."""
        entry = store.pop(key, None)
        if entry is not None:
            self._unindex(plural, key, entry)
        return entry

    def _unindex(self, plural: str, key: Key, entry: _Entry) -> None:
        for name, value in entry.index_values:
            keys = self._index.get((plural, name, value))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._index[(plural, name, value)]

    def drop_unlisted(self, resource: Resource, namespace: str | None, listed: set[Key], version: str) -> list[Body]:
        """After a LIST of `namespace` (None: every namespace) at resourceVersion `version` whose objects
        (`listed`, their keys) were observed: drop and return the cached objects of that scope it lacked
        (deleted while no watch saw it) — unless cached at a newer version than the list (written since)."""
        as_of = int(version) if version.isdigit() else None
        store = self._stores.get(resource.plural)
        if store is None:
            return []
        gone: list[Body] = []
        with self._lock:
            for key in [key for key in store if (namespace is None or key[0] == namespace) and key not in listed]:
                current = store[key].version
                if as_of is not None and current is not None and current > as_of:
                    continue
                dropped = self._drop(resource.plural, store, key)
                if dropped is not None:
                    gone.append(dropped.shared())
        return gone

    def forget(self, resource: Resource, body: Mapping[str, Any]) -> None:
        """The watch saw the object deleted."""
        store = self._stores.get(resource.plural)
        if store is None:
            return
        key, version = _key(body), _version(body)
        with self._lock:
            cached = store.get(key)
            current = cached.version if cached is not None else None
            if current is not None and version is not None and version < current:
                return  # a newer object of that name exists (re-created since)
            self._drop(resource.plural, store, key)
            self._deleted.pop((resource.plural, key), None)

    # -- reads ------------------------------------------------------------------------------

    def get(self, resource: Resource, namespace: str, name: str) -> Body | None:
        store = self._stores.get(resource.plural)
        if store is None:
            return self.api.get(resource, namespace, name)
        found = store.get((namespace, name))
        if found is None and self._complete(resource.plural):
            found = store.get((namespace, name))  # listed while this read waited
            if found is None:
                return None
        if found is not None:
            return found.copy()
        with self._lock:
            self.api_reads += 1
        fetched = self.api.get(resource, namespace, name)
        if fetched is not None:
            self.observe(resource, fetched)
        return fetched

    def indexed(self, resource: Resource, namespace: str, index: str, value: str) -> list[Body]:
        """The objects of `namespace` (all: "") that index `index` files under `value`, by name (read-only).
        Before the sync, and for a kind not cached, a LIST filtered by the index's function."""
        indexer = (self._indexers.get(resource.plural) or {})[index]
        store = self._stores.get(resource.plural)
        if store is None or not self._complete(resource.plural):
            return [body for body in self.list(resource, namespace) if indexer(body) == value]
        with self._lock:
            keys = self._index.get((resource.plural, index, value)) or set()
            entries = [store[key] for key in keys if key[0] == namespace or not namespace]
        return sorted((entry.shared() for entry in entries), key=lambda body: body["metadata"]["name"])

    def list(self, resource: Resource, namespace: str, labels: dict[str, str] | None = None) -> list[Body]:
        store = self._stores.get(resource.plural)
        if store is None:
            return self.api.list(resource, namespace, labels)
        if not self._complete(resource.plural):
            with self._lock:
                self.api_reads += 1
            items = self.api.list(resource, namespace, labels)
            for item in items:
                self.observe(resource, item)
            return items
        wanted = labels or {}
        indexed = next((label for label in sorted(wanted) if label in self._indexed), None)
        with self._lock:
            if indexed is not None:
                keys = self._index.get((resource.plural, indexed, wanted[indexed])) or set()
                candidates = [(key, store[key]) for key in keys]
            else:
                candidates = list(store.items())
            entries = [entry for (ns, _), entry in candidates if ns == namespace or not namespace]
        bodies = [entry.shared() for entry in entries if _labelled(entry.labels, wanted)]
        return sorted(bodies, key=lambda body: body["metadata"]["name"])

    # -- writes (through to the API server; their responses are observed) -------------------

    def create(self, resource: Resource, body: Body) -> tuple[Body, bool]:
        meta = body.get("metadata") or {}
        if resource.plural in self._synced and self._synced[resource.plural].is_set():
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            existing = (self._stores.get(resource.plural) or {}).get(key)
            if existing is not None:
                return existing.copy(), False
        created, fresh = self.api.create(resource, body)
        self.observe(resource, created)
        return created, fresh

    def patch(self, resource: Resource, namespace: str, name: str, patch: Body) -> Body | None:
        patched = self.api.patch(resource, namespace, name, patch)
        if patched is not None:
            self.observe(resource, patched)
        return patched

    def patch_status(self, resource: Resource, namespace: str, name: str, status: Body) -> Body | None:
        patched = self.api.patch_status(resource, namespace, name, status)
        if patched is not None:
            self.observe(resource, patched)
        return patched

    def delete(self, resource: Resource, namespace: str, name: str) -> bool:
        deleted = self.api.delete(resource, namespace, name)
        store = self._stores.get(resource.plural)
        if store is not None:
            with self._lock:
                dropped = self._drop(resource.plural, store, (namespace, name))  # gone either way
                last = dropped.version if dropped is not None else None
                if deleted and last is not None:
                    self._deleted[(resource.plural, (namespace, name))] = last
        return deleted

    def sizes(self) -> dict[str, int]:
        """Objects cached per kind (for the metrics and the benchmark)."""
        with self._lock:
            return {plural: len(store) for plural, store in self._stores.items()}
