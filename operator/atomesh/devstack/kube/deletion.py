"""What a DELETE of one object answers, as kube-apiserver answers it.

- The generic registry (apiserver `pkg/registry/generic/registry/store.go`, `finalizeDelete`)
  answers an object removed at once with `Status{status: Success, details: {name, group,
  kind: <plural>, uid}}`, unless its registry sets `ReturnDeletedObject`: in kube-apiserver
  only pods, services, serviceaccounts and namespaces do (`pkg/registry/core/*/storage/storage.go`);
  configmaps, secrets, events, leases, jobs, deployments, RBAC, CRDs and custom resources
  (apiextensions-apiserver `pkg/registry/customresource/etcd.go`) answer with the Status.
- An object that is not gone yet (finalizers, graceful pod deletion, a namespace or CRD being
  cleaned up) is answered with the object as it now is, deletionTimestamp set.
- `DeleteResource` (apiserver `pkg/endpoints/handlers/delete.go`) answers 202 instead of 200 when
  the object is not gone yet and the client set `orphanDependents: false`.
- A namespace already terminating whose `spec.finalizers` are not empty is refused with 409
  (`pkg/registry/core/namespace/storage/storage.go`, `Delete`).
"""

from __future__ import annotations

from typing import Any

from atomesh.devstack.kube import builtins
from atomesh.devstack.kube.errors import conflict
from atomesh.devstack.kube.resources import GroupResource, ResourceInfo
from atomesh.devstack.kube.store import Store

Obj = dict[str, Any]
RETURN_DELETED_OBJECT: frozenset[GroupResource] = frozenset(
    {builtins.PODS, builtins.NAMESPACES, ("", "services"), ("", "serviceaccounts")}
)
NAMESPACE_PURGING = (
    "The system is ensuring all content is removed from this namespace.  "
    "Upon completion, this namespace will automatically be purged by the system."
)


def check(info: ResourceInfo, current: Obj) -> None:
    """Refuse a DELETE that kube-apiserver refuses before touching the object."""
    meta = current["metadata"]
    finalizers = (current.get("spec") or {}).get("finalizers")
    if info.gr == builtins.NAMESPACES and meta.get("deletionTimestamp") and finalizers:
        raise conflict(info.group, info.plural, meta["name"], NAMESPACE_PURGING)


def gone(store: Store, info: ResourceInfo, deleted: Obj) -> bool:
    """Whether the object the DELETE answered with is no longer stored (a new one of the same name does not count)."""
    meta = deleted["metadata"]
    stored = store.get(info.gr, meta.get("namespace", "") if info.namespaced else "", meta["name"])
    return stored is None or stored.obj["metadata"].get("uid") != meta.get("uid")


def response(info: ResourceInfo, deleted: Obj, removed: bool, options: Obj) -> tuple[Obj, int]:
    """The body and HTTP status of a DELETE whose result is `deleted` (removed at once or not)."""
    if not removed:
        code = 202 if options.get("orphanDependents") is False else 200
        return deleted, code
    if info.gr in RETURN_DELETED_OBJECT:
        return deleted, 200
    meta = deleted["metadata"]
    details = {"name": meta["name"], "group": info.group, "kind": info.plural, "uid": meta.get("uid", "")}
    if not info.group:
        del details["group"]  # omitempty: the core group is ""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}, 200
