"""Garbage collection and the clean-up that waits on deletion: dependents whose owners are all gone,
namespaces that empty before they disappear, CRDs that take their instances with them.

Like kube-controller-manager this runs after the request that triggered it has answered
(`soon`), so clients see the same eventual behaviour as on a real cluster.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atomesh.devstack.kube import builtins
from atomesh.devstack.kube.errors import ApiError

if TYPE_CHECKING:
    from atomesh.devstack.kube.cluster import Cluster
    from atomesh.devstack.kube.resources import ResourceInfo

Obj = dict[str, Any]
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
log = logging.getLogger(__name__)


def soon(fn: Callable[..., None], *args: Any) -> None:
    """Run after the current request; synchronously when no loop runs (pure tests of the model)."""

    def guarded() -> None:
        try:
            fn(*args)
        except ApiError as exc:  # the object changed meanwhile; the next event retries
            log.debug("garbage collection skipped: %s", exc.message)

    try:
        asyncio.get_running_loop().call_soon(guarded)
    except RuntimeError:
        guarded()


def _delete(cluster: Cluster, key: tuple[tuple[str, str], str, str]) -> None:
    gr, namespace, name = key
    info = cluster.info_for(gr)
    if info is not None and cluster.store.get(gr, namespace, name) is not None:
        cluster.delete(info, namespace, name, {"propagationPolicy": "Background"})


def _owners_alive(cluster: Cluster, obj: Obj, gone: str = "") -> bool:
    refs = obj["metadata"].get("ownerReferences") or []
    return any(ref.get("uid") != gone and ref.get("uid") in cluster.store.uids for ref in refs)


def collect(cluster: Cluster, uid: str, force: bool = False) -> None:
    """Delete the dependents of `uid` that have no other live owner."""
    for key in list(cluster.store.dependents.get(uid, ())):
        stored = cluster.store.get(*key)
        if stored is not None and not _owners_alive(cluster, stored.obj, gone=uid if force else ""):
            _delete(cluster, key)


def collect_orphan(cluster: Cluster, obj: Obj) -> None:
    """An object created or updated with owners that no longer exist goes, as the real GC decides."""
    meta = obj["metadata"]
    gr_key = cluster.store.uids.get(meta.get("uid", ""))
    if gr_key is None:
        return
    stored = cluster.store.get(*gr_key)
    if stored is not None and stored.obj["metadata"].get("ownerReferences") and not _owners_alive(cluster, stored.obj):
        _delete(cluster, gr_key)


def orphan(cluster: Cluster, uid: str) -> None:
    """propagationPolicy=Orphan: dependents lose their reference to `uid` and stay."""
    for key in list(cluster.store.dependents.get(uid, ())):
        stored = cluster.store.get(*key)
        info = cluster.info_for(key[0])
        if stored is None or info is None:
            continue
        refs = [r for r in stored.obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
        cluster.patch(
            info, key[1], key[2], "application/merge-patch+json", {"metadata": {"ownerReferences": refs or None}}, None
        )


def after_remove(cluster: Cluster, info: ResourceInfo, obj: Obj) -> None:
    collect(cluster, obj["metadata"].get("uid", ""))
    namespace = obj["metadata"].get("namespace")
    if namespace:
        ns = cluster.store.get(builtins.NAMESPACES, "", namespace)
        ns_info = cluster.info_for(builtins.NAMESPACES)
        if ns is not None and ns_info is not None:
            cluster.finalize_if_done(ns_info, ns)
    if not info.builtin:
        crd = cluster.store.get(builtins.CRDS, "", f"{info.plural}.{info.group}")
        if crd is not None and crd.obj["metadata"].get("deletionTimestamp"):
            clean_crd(cluster, crd.obj)


def clean_namespace(cluster: Cluster, name: str) -> None:
    """A terminating namespace deletes its content, then itself once empty."""
    for gr, namespace in list(cluster.store.namespaces_used()):
        if namespace != name:
            continue
        for stored in list(cluster.store.iter(gr, namespace)):
            _delete(cluster, (gr, namespace, stored.obj["metadata"]["name"]))
    ns = cluster.store.get(builtins.NAMESPACES, "", name)
    info = cluster.info_for(builtins.NAMESPACES)
    if ns is not None and info is not None:
        cluster.finalize_if_done(info, ns)


def clean_crd(cluster: Cluster, crd: Obj) -> None:
    """A deleting CRD deletes its instances; its clean-up finalizer goes once none is left."""
    gr = (crd["spec"]["group"], crd["spec"]["names"]["plural"])
    remaining = cluster.store.drop_group_resource(gr)
    for stored in remaining:
        meta = stored.obj["metadata"]
        if not meta.get("deletionTimestamp"):
            _delete(cluster, (gr, meta.get("namespace", ""), meta["name"]))
    if cluster.store.count(gr) == 0:
        current = cluster.store.get(builtins.CRDS, "", crd["metadata"]["name"])
        info = cluster.info_for(builtins.CRDS)
        if current is None or info is None:
            return
        finalizers = [f for f in current.obj["metadata"].get("finalizers") or [] if f != CRD_CLEANUP]
        if finalizers != current.obj["metadata"].get("finalizers"):
            cluster.patch(
                info,
                "",
                crd["metadata"]["name"],
                "application/merge-patch+json",
                {"metadata": {"finalizers": finalizers or None}},
                None,
            )
