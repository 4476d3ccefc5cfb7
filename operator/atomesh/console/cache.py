"""The console's informer-style cache: each kind LISTed once, then WATCHed from the list's resourceVersion.

Pages read this cache and never the API server, so a page view costs no request to the cluster. A
watch that the server ends is resumed from the last resourceVersion seen; one that expired (410 Gone)
is replaced by a new LIST, which also drops objects deleted meanwhile. When the identity may not list a
kind across the cluster (403), the cache lists and watches it in each namespace it may read instead
(`scopes.readable_namespaces`: found by access reviews, else the kubeconfig context's), as `kubectl get -A`
users fall back to `-n`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from atomesh.api import Agent, AgentRun, Mesh
from atomesh.console.scopes import readable_namespaces
from atomesh.core.supervision_facts import RunFacts, run_facts
from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import AGENT_RUNS, AGENTS, MESHES, Resource
from atomesh.kube.watch import GONE, KubeReader

log = logging.getLogger(__name__)

EVENTS = Resource("", "v1", "events", "Event")
EVENTS_PER_OBJECT = 30  # the latest ones; a run's page needs its story, not its whole history
RETRY_SECONDS = 2.0
FORBIDDEN = 403
Key = tuple[str, str]


@dataclass
class CacheStats:
    """What the cache asked of the API server, for the benchmark and the page footer."""

    lists: int = 0
    watches: int = 0
    relists: int = 0
    events: int = 0
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))


MODELS: dict[str, type[BaseModel]] = {AGENTS.kind: Agent, MESHES.kind: Mesh, AGENT_RUNS.kind: AgentRun}


def parse_object(resource: Resource, body: Body) -> BaseModel:
    """The API model of an Agent, Mesh or AgentRun as the server returned it; ValidationError otherwise."""
    return MODELS[resource.kind].model_validate(body)


def list_once(
    reader: KubeReader, namespaces: Sequence[str] | None
) -> tuple[list[Agent], list[Mesh], list[AgentRun], list[str]]:
    """One LIST of each kind (for a one-shot view): across the cluster, or in `namespaces`; a kind the
    identity may not list across the cluster is listed in each namespace it may read. Also returns warnings."""
    found: dict[str, list[BaseModel]] = {}
    warnings: list[str] = []
    for resource in (AGENTS, MESHES, AGENT_RUNS):
        items: list[Body] = []
        scopes: list[str | None] = list(namespaces) if namespaces else [None]
        for scope in scopes:
            try:
                items.extend(reader.list(resource, scope)[0])
            except KubeError as exc:
                if exc.status != FORBIDDEN or scope is not None:
                    raise
                readable = readable_namespaces(reader, resource)
                warnings.append(f"{resource.plural}: {exc.message}; {readable.note}")
                for namespace in readable.namespaces:
                    items.extend(reader.list(resource, namespace)[0])
        found[resource.kind] = []
        for item in items:
            try:
                found[resource.kind].append(parse_object(resource, item))
            except ValidationError as exc:
                name = (item.get("metadata") or {}).get("name")
                warnings.append(f"{resource.kind} {name}: unreadable: {str(exc).splitlines()[0]}")
    agents = [obj for obj in found[AGENTS.kind] if isinstance(obj, Agent)]
    meshes = [obj for obj in found[MESHES.kind] if isinstance(obj, Mesh)]
    runs = [obj for obj in found[AGENT_RUNS.kind] if isinstance(obj, AgentRun)]
    return agents, meshes, runs, warnings


# Metadata the views never read and that would double a run's size in memory.
BULKY_METADATA = frozenset({"managedFields"})


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A run in the cache: what the views compute with, and the object itself for its own page."""

    facts: RunFacts
    body: bytes


class ClusterCache:
    """Agents, Meshes, AgentRuns and their Events as last seen, parsed into API models."""

    def __init__(
        self,
        reader: KubeReader,
        namespaces: Sequence[str] | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._reader = reader
        self._namespaces = list(namespaces) if namespaces else None
        self._on_change = on_change or (lambda: None)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._synced: dict[tuple[str, str | None], threading.Event] = {}
        # Agents and Meshes as models; runs as StoredRun (thousands of them: small facts and compact JSON).
        self.objects: dict[str, dict[Key, Any]] = {AGENTS.kind: {}, MESHES.kind: {}, AGENT_RUNS.kind: {}}
        self.events: dict[tuple[str, str, str], deque[Body]] = {}
        self.invalid: dict[tuple[str, str, str], str] = {}
        self.generation = 0
        self.stats = CacheStats()

    # --- reading -----------------------------------------------------------------------------------
    def snapshot(self) -> tuple[list[Agent], list[Mesh], list[RunFacts], int]:
        with self._lock:
            agents = list(self.objects[AGENTS.kind].values())
            meshes = list(self.objects[MESHES.kind].values())
            runs = [stored.facts for stored in self.objects[AGENT_RUNS.kind].values()]
            return agents, meshes, runs, self.generation

    def get(self, kind: str, namespace: str, name: str) -> BaseModel | None:
        with self._lock:
            found = self.objects[kind].get((namespace, name))
        if isinstance(found, StoredRun):
            return AgentRun.model_validate_json(found.body)
        return found if isinstance(found, BaseModel) else None

    def events_of(self, kind: str, namespace: str, name: str) -> list[Body]:
        with self._lock:
            return list(self.events.get((kind, namespace, name), ()))

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        for resource in (AGENTS, MESHES, AGENT_RUNS, EVENTS):
            scopes: list[str | None] = list(self._namespaces) if self._namespaces else [None]
            for scope in scopes:
                self._spawn(resource, scope)

    def _spawn(self, resource: Resource, scope: str | None) -> None:
        self._synced[(resource.kind, scope)] = threading.Event()
        thread = threading.Thread(
            target=self._run, args=(resource, scope), name=f"informer-{resource.plural}-{scope or 'all'}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def wait_synced(self, timeout: float) -> bool:
        """Whether every kind was listed once within `timeout` seconds (in each namespace, where a kind is
        read per namespace: those informers start before the cluster-wide one counts as synced)."""
        deadline = time.monotonic() + timeout
        while True:
            pending = [event for event in list(self._synced.values()) if not event.is_set()]
            if not pending:
                return True
            if not pending[0].wait(max(0.0, deadline - time.monotonic())):
                return False

    def stop(self) -> None:
        self._stop.set()
        self._reader.stop()
        for thread in self._threads:
            thread.join(timeout=5)

    # --- the informer loop -------------------------------------------------------------------------
    def _run(self, resource: Resource, scope: str | None) -> None:
        while not self._stop.is_set():
            try:
                items, version = self._reader.list(resource, scope)
            except KubeError as exc:
                if exc.status == FORBIDDEN and scope is None:
                    self._narrow(resource, exc)
                    return
                self._failed(resource, scope, exc)
                continue
            with self._lock:
                self.stats.lists += 1
            self._replace(resource, scope, items)
            self._synced[(resource.kind, scope)].set()
            self._follow(resource, scope, version)

    def _narrow(self, resource: Resource, exc: KubeError) -> None:
        """Read `resource` in each namespace the identity may read it in, since not across the cluster."""
        while True:
            try:
                readable = readable_namespaces(self._reader, resource)
                break
            except KubeError as failed:
                self._failed(resource, None, failed)
                if self._stop.is_set():
                    return
        self.stats.errors.append(f"{resource.plural}: {exc.message}; {readable.note}")
        for namespace in readable.namespaces:
            self._spawn(resource, namespace)
        self._synced[(resource.kind, None)].set()

    def _failed(self, resource: Resource, scope: str | None, exc: KubeError) -> None:
        if not self._stop.is_set():
            log.warning("listing %s in %s failed: %s", resource.plural, scope or "all namespaces", exc)
            self.stats.errors.append(f"{resource.plural}: {exc}")
        self._stop.wait(RETRY_SECONDS)

    def _follow(self, resource: Resource, scope: str | None, version: str) -> None:
        """WATCH from `version` until the watch expires (then the caller relists) or the cache stops."""
        while not self._stop.is_set():
            with self._lock:
                self.stats.watches += 1
            try:
                for event in self._reader.watch(resource, scope, version):
                    metadata = event.object.get("metadata") or {}
                    version = str(metadata.get("resourceVersion") or version)
                    if event.type != "BOOKMARK":
                        self._apply(resource, event.type, event.object)
            except KubeError as exc:
                if exc.status == GONE:
                    with self._lock:
                        self.stats.relists += 1
                    return
                self._failed(resource, scope, exc)
                return

    # --- changes -----------------------------------------------------------------------------------
    def _store(self, resource: Resource, body: Body) -> Any:
        """What the cache keeps of an object: its model, or for a run its facts and compact JSON."""
        model = self._parse(resource, body)
        if not isinstance(model, AgentRun):
            return model
        metadata = {key: value for key, value in body["metadata"].items() if key not in BULKY_METADATA}
        return StoredRun(run_facts(model), json.dumps({**body, "metadata": metadata}, separators=(",", ":")).encode())

    def _parse(self, resource: Resource, body: Body) -> BaseModel | None:
        metadata = body.get("metadata") or {}
        key = (resource.kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        try:
            parsed = parse_object(resource, body)
        except ValidationError as exc:
            # An object this version of atomesh cannot read is shown as such, not silently dropped.
            self.invalid[key] = str(exc).splitlines()[0]
            return None
        self.invalid.pop(key, None)
        return parsed

    def _replace(self, resource: Resource, scope: str | None, items: list[Body]) -> None:
        if resource is EVENTS:
            with self._lock:
                for event_key in [key for key in self.events if scope is None or key[1] == scope]:
                    del self.events[event_key]
            for item in items:
                self._apply(resource, "ADDED", item, notify=False)
        else:
            parsed = {}
            for item in items:
                model = self._store(resource, item)
                if model is not None:
                    metadata = item["metadata"]
                    parsed[(metadata.get("namespace") or "", metadata["name"])] = model
            with self._lock:
                store = self.objects[resource.kind]
                for key in [key for key in store if scope is None or key[0] == scope]:
                    del store[key]
                store.update(parsed)
        with self._lock:
            self.generation += 1
        self._on_change()

    def _apply(self, resource: Resource, type_: str, body: Body, notify: bool = True) -> None:
        metadata = body.get("metadata") or {}
        key = (str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))
        if resource is EVENTS:
            self._apply_event(type_, body)
        elif type_ == "DELETED":
            with self._lock:
                self.objects[resource.kind].pop(key, None)
        else:
            model = self._store(resource, body)
            with self._lock:
                if model is None:
                    self.objects[resource.kind].pop(key, None)
                else:
                    self.objects[resource.kind][key] = model
        if notify:
            with self._lock:
                self.generation += 1
                self.stats.events += 1
            self._on_change()

    def _apply_event(self, type_: str, body: Body) -> None:
        involved: dict[str, Any] = body.get("involvedObject") or body.get("regarding") or {}
        if not str(involved.get("apiVersion") or "").startswith("atomesh.io/") or type_ == "DELETED":
            return
        key = (str(involved.get("kind")), str(involved.get("namespace") or ""), str(involved.get("name")))
        uid = (body.get("metadata") or {}).get("uid")
        with self._lock:
            events = self.events.setdefault(key, deque(maxlen=EVENTS_PER_OBJECT))
            kept = [event for event in events if (event.get("metadata") or {}).get("uid") != uid]
            events.clear()
            events.extend([*kept, body][-EVENTS_PER_OBJECT:])
