"""A watch-fed cache behind the Kubernetes port: `CachedKube` answers the reads of the kinds it
caches from memory and writes through to the API server.

Invariants:

- **Fed by watches.** `observe` takes every object a watch delivers (the initial LIST included) and
  `forget` every deletion; once the feeder says the initial lists are complete (`mark_synced`),
  a miss is an answer ("does not exist"), so reconciles issue no GET or LIST for cached kinds.
  Before that, a miss falls through to the API server (counted in `api_reads`).
- **Never older than what this process wrote.** A write's response is stored like a watch event;
  an object replaces the cached one only when its resourceVersion is newer, so a watch event that
  arrives after our own write never rolls the cache back (read-your-writes).
- **Deleted stays deleted.** A delete through this port drops the object and remembers its last
  resourceVersion, so a late event of the same or an older version does not bring it back.
- **Callers get copies** from `get`; `list` returns the cached objects themselves for speed:
  listed objects are read-only.
- Lists by an indexed label (`indexed_labels`, e.g. the mesh of a run) look up that label's
  index instead of scanning every object of the kind (client-go's indexers).
- A kind may be cached for the objects carrying certain labels only (runner pods): the feeder
  watches with that selector, and the operator reads only such objects of that kind.
"""

from __future__ import annotations

import copy
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from atomesh.kube.client import Body, Kube
from atomesh.kube.resources import Resource

Key = tuple[str, str]  # (namespace, name)
# Metadata no reconcile reads and that would double an object's size in memory (client-go's informers
# are given the same transform).
BULKY_METADATA = frozenset({"managedFields"})
INTERNED_UP_TO = 64  # characters: names, phases, reasons, timestamps repeat across thousands of objects


def compact(body: Body) -> Body:
    """An object as the cache keeps it, made in place from one just decoded that no one else holds
    (client-go's informer transform): without bulky metadata, and with its short strings interned,
    since a JSON decoder makes a new string for every value and thousands of objects repeat the same
    namespace, phase, reason, Agent and API version."""
    meta = body.get("metadata")
    if isinstance(meta, dict):
        for key in BULKY_METADATA.intersection(meta):
            del meta[key]
    _intern(body)
    return body


def _intern(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                if len(item) <= INTERNED_UP_TO:
                    value[key] = sys.intern(item)
            elif isinstance(item, (dict, list)):
                _intern(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                if len(item) <= INTERNED_UP_TO:
                    value[index] = sys.intern(item)
            elif isinstance(item, (dict, list)):
                _intern(item)


def _version(body: Mapping[str, Any] | None) -> int | None:
    """The resourceVersion as a number; None when absent or opaque (then the newest arrival wins)."""
    value = ((body or {}).get("metadata") or {}).get("resourceVersion")
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _key(body: Mapping[str, Any]) -> Key:
    meta = body.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _labelled(body: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    own = (body.get("metadata") or {}).get("labels") or {}
    return all(own.get(key) == value for key, value in labels.items())


class CachedKube:
    """The Kube port over `api`, with `kinds` served from memory."""

    def __init__(self, api: Kube, kinds: Iterable[Resource], indexed_labels: Iterable[str] = ()) -> None:
        self.api = api
        self._stores: dict[str, dict[Key, Body]] = {kind.plural: {} for kind in kinds}
        self._indexed = frozenset(indexed_labels)
        self._by_label: dict[tuple[str, str, str], set[Key]] = {}  # (plural, label, value) -> keys
        self._deleted: dict[tuple[str, Key], int] = {}
        self._lock = threading.Lock()
        self._synced = threading.Event()
        self.api_reads = 0  # reads of cached kinds that went to the API server (before the sync)

    # -- the feed ---------------------------------------------------------------------------

    def caches(self, resource: Resource) -> bool:
        return resource.plural in self._stores

    @property
    def synced(self) -> bool:
        return self._synced.is_set()

    def mark_synced(self) -> None:
        """The initial lists of every cached kind have been observed."""
        self._synced.set()

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
            current = _version(store.get(key))
            if current is not None and version is not None and version <= current:
                return  # older, or the same version again (kopf's LIST after the start-up one): kept as it is
            self._drop(resource.plural, store, key)
            store[key] = dict(body)
            for label, value in ((body.get("metadata") or {}).get("labels") or {}).items():
                if label in self._indexed:
                    self._by_label.setdefault((resource.plural, label, value), set()).add(key)

    def _drop(self, plural: str, store: dict[Key, Body], key: Key) -> Body | None:
        """Remove the object from the store and the label index (the lock held)."""
        body = store.pop(key, None)
        for label, value in (((body or {}).get("metadata") or {}).get("labels") or {}).items():
            keys = self._by_label.get((plural, label, value))
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_label[(plural, label, value)]
        return body

    def replace(self, resource: Resource, namespace: str | None, items: list[Body], version: str) -> list[Body]:
        """A LIST of `namespace` (None: every namespace) at resourceVersion `version`: its objects are
        observed, and cached objects of that scope it lacks are dropped and returned (deleted while no
        watch saw it) — unless cached at a newer version than the list (written since)."""
        listed = {_key(body) for body in items}
        as_of = int(version) if version.isdigit() else None
        for body in items:
            self.observe(resource, body)
        store = self._stores.get(resource.plural)
        if store is None:
            return []
        gone: list[Body] = []
        with self._lock:
            for key in [key for key in store if (namespace is None or key[0] == namespace) and key not in listed]:
                current = _version(store[key])
                if as_of is not None and current is not None and current > as_of:
                    continue
                dropped = self._drop(resource.plural, store, key)
                if dropped is not None:
                    gone.append(dropped)
        return gone

    def forget(self, resource: Resource, body: Mapping[str, Any]) -> None:
        """The watch saw the object deleted."""
        store = self._stores.get(resource.plural)
        if store is None:
            return
        key, version = _key(body), _version(body)
        with self._lock:
            current = _version(store.get(key))
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
        if found is not None:
            return copy.deepcopy(found)
        if self.synced:
            return None
        with self._lock:
            self.api_reads += 1
        fetched = self.api.get(resource, namespace, name)
        if fetched is not None:
            self.observe(resource, fetched)
        return fetched

    def list(self, resource: Resource, namespace: str, labels: dict[str, str] | None = None) -> list[Body]:
        store = self._stores.get(resource.plural)
        if store is None:
            return self.api.list(resource, namespace, labels)
        if not self.synced:
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
                keys = self._by_label.get((resource.plural, indexed, wanted[indexed])) or set()
                candidates = [(key, store[key]) for key in keys]
            else:
                candidates = list(store.items())
            bodies = [body for (ns, _), body in candidates if ns == namespace or not namespace]
        return sorted((body for body in bodies if _labelled(body, wanted)), key=lambda body: body["metadata"]["name"])

    # -- writes (through to the API server; their responses are observed) -------------------

    def create(self, resource: Resource, body: Body) -> tuple[Body, bool]:
        meta = body.get("metadata") or {}
        if self.synced:
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            existing = (self._stores.get(resource.plural) or {}).get(key)
            if existing is not None:
                return copy.deepcopy(existing), False
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
                last = _version(self._drop(resource.plural, store, (namespace, name)))  # gone either way
                if deleted and last is not None:
                    self._deleted[(resource.plural, (namespace, name))] = last
        return deleted

    def sizes(self) -> dict[str, int]:
        """Objects cached per kind (for the metrics and the benchmark)."""
        with self._lock:
            return {plural: len(store) for plural, store in self._stores.items()}
