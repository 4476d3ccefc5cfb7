"""An in-memory Kube for unit tests of the layers above: same idempotency and 404 semantics,
owner-reference garbage collection on delete, and a log of writes to assert on."""

from __future__ import annotations

import copy
import itertools
import threading
from typing import Any

from atomesh.kube.client import Body
from atomesh.kube.resources import Resource


def _merge(target: Body, patch: Body) -> Body:
    """RFC 7386 JSON merge patch."""
    result = dict(target)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Body] = {}
        self.writes: list[tuple[str, str, str]] = []  # (verb, plural, name)
        self._uids = itertools.count(1)
        self._versions = itertools.count(1)
        self._lock = threading.Lock()

    def _key(self, resource: Resource, namespace: str, name: str) -> tuple[str, str, str]:
        return (resource.plural, namespace, name)

    def get(self, resource: Resource, namespace: str, name: str) -> Body | None:
        found = self.objects.get(self._key(resource, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def list(self, resource: Resource, namespace: str, labels: dict[str, str] | None = None) -> list[Body]:
        wanted = labels or {}
        return [
            copy.deepcopy(body)
            for (plural, ns, _), body in sorted(self.objects.items())
            if plural == resource.plural
            and (ns == namespace or not namespace)  # "" is every namespace, as for the API server
            and all(body["metadata"].get("labels", {}).get(key) == value for key, value in wanted.items())
        ]

    def create(self, resource: Resource, body: Body) -> tuple[Body, bool]:
        meta = body["metadata"]
        key = self._key(resource, meta["namespace"], meta["name"])
        with self._lock:
            if key in self.objects:
                return copy.deepcopy(self.objects[key]), False
            stored: Body = {"apiVersion": resource.api_version, "kind": resource.kind, **copy.deepcopy(body)}
            stored["metadata"] = {**stored["metadata"], "uid": f"uid-{next(self._uids)}", "generation": 1}
            stored["metadata"]["resourceVersion"] = str(next(self._versions))
            if resource.has_status:
                stored.pop("status", None)
            self.objects[key] = stored
            self.writes.append(("create", resource.plural, meta["name"]))
            return copy.deepcopy(stored), True

    def patch(self, resource: Resource, namespace: str, name: str, patch: Body) -> Body | None:
        key = self._key(resource, namespace, name)
        with self._lock:
            if key not in self.objects:
                return None
            before = self.objects[key]
            after = _merge(before, {k: v for k, v in patch.items() if k != "status" or not resource.has_status})
            if after.get("spec") != before.get("spec"):
                after["metadata"]["generation"] = int(before["metadata"].get("generation", 1)) + 1
            after["metadata"]["resourceVersion"] = str(next(self._versions))
            self.objects[key] = after
            self.writes.append(("patch", resource.plural, name))
            return copy.deepcopy(after)

    def patch_status(self, resource: Resource, namespace: str, name: str, status: Body) -> Body | None:
        key = self._key(resource, namespace, name)
        with self._lock:
            if key not in self.objects:
                return None
            after = _merge(self.objects[key], {"status": status})
            after["metadata"]["resourceVersion"] = str(next(self._versions))
            self.objects[key] = after
            self.writes.append(("status", resource.plural, name))
            return copy.deepcopy(after)

    def delete(self, resource: Resource, namespace: str, name: str) -> bool:
        with self._lock:
            body = self.objects.pop(self._key(resource, namespace, name), None)
            if body is None:
                return False
            self.writes.append(("delete", resource.plural, name))
            self._collect(body["metadata"]["uid"])
            return True

    def _collect(self, uid: str) -> None:
        """Garbage-collect dependents, as the API server does for ownerReferences."""
        for key, body in list(self.objects.items()):
            owners = body["metadata"].get("ownerReferences") or []
            if any(owner.get("uid") == uid for owner in owners):
                del self.objects[key]
                self._collect(body["metadata"]["uid"])


__all__: list[Any] = ["FakeKube"]
