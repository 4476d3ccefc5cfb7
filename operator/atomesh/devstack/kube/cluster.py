"""Object semantics of the API server: create, update, patch and delete with the rules real
clients depend on — resourceVersion preconditions, status subresource and generation, finalizers
and deletionTimestamp, CRD lifecycle, structural schemas, graceful pod deletion.

Handlers (app.py) parse HTTP; this module never sees a request. Garbage collection and the
clean-up of terminating namespaces and CRDs live in gc.py.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.devstack.kube import builtins, celrules, crd_warnings, crds, fields, gc, patch, rbac, schema
from atomesh.devstack.kube.errors import ApiError, already_exists, bad_request, cause, conflict, invalid, not_found
from atomesh.devstack.kube.fields import FieldCheck
from atomesh.devstack.kube.resources import Registry, ResourceInfo
from atomesh.devstack.kube.store import Store, Stored

Obj = dict[str, Any]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
FIXED_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


def now(delta: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def clone(obj: Obj) -> Obj:
    """A deep copy of a JSON object; faster than copy.deepcopy for plain dicts and lists."""
    result: Obj = json.loads(json.dumps(obj))
    return result


def _spec_part(obj: Obj, info: ResourceInfo) -> Obj:
    skip = ("metadata", "status") if info.has_status else ("metadata",)
    return {k: v for k, v in obj.items() if k not in skip}


class Cluster:
    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry
        # Called with (group/resource, new object) before every create and update is stored; raises
        # ApiError to refuse it (the RBAC escalation check hooks in here).
        self.admission: Callable[[tuple[str, str], Obj], None] | None = None

    # reads ---------------------------------------------------------------------------------------
    def get(self, info: ResourceInfo, namespace: str, name: str) -> Stored:
        stored = self.store.get(info.gr, namespace if info.namespaced else "", name)
        if stored is None:
            raise not_found(info.group, info.plural, name)
        return stored

    def info_for(self, gr: tuple[str, str]) -> ResourceInfo | None:
        return self.registry.storage_info(gr)

    # create --------------------------------------------------------------------------------------
    def create(self, info: ResourceInfo, namespace: str, body: Any, check: FieldCheck | None = None) -> Obj:
        obj = self._new_object(info, namespace, body, check)
        meta = obj["metadata"]
        if self.store.get(info.gr, meta.get("namespace", ""), meta["name"]) is not None:
            raise already_exists(info.group, info.plural, meta["name"])
        if self.admission is not None:
            self.admission(info.gr, obj)
        self.store.put(info.gr, obj, "ADDED")
        if info.gr == builtins.CRDS:
            self._register_crd(obj)
        if meta.get("ownerReferences"):
            gc.soon(gc.collect_orphan, self, obj)
        return obj

    def _new_object(self, info: ResourceInfo, namespace: str, body: Any, check: FieldCheck | None = None) -> Obj:
        obj = self._check_body(info, body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if check is not None:
            check.report(info, obj)
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise invalid(
                    info.kind,
                    info.group,
                    "",
                    [cause("metadata.name", "name or generateName is required", "FieldValueRequired")],
                )
            meta["name"] = self._generate_name(info, namespace, meta["generateName"])
        self._check_namespace(info, namespace, meta)
        for key in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "managedFields"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        meta["generation"] = 1
        if info.has_status and not info.builtin:
            obj.pop("status", None)
        builtins.on_create(info.gr, obj)
        if info.gr == builtins.CRDS:
            crds.crd_defaults(obj)
            crds.validate_crd(obj)
            _check_crd_rules(obj)
            if check is not None:
                check.warn(crd_warnings.warnings(obj))
            obj["status"] = crds.crd_status(obj, now(), None)
        return self._apply_schema(info, obj)

    def _check_body(self, info: ResourceInfo, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request(f"the body of a {info.kind} must be a JSON object")
        obj: Obj = body
        kind = obj.setdefault("kind", info.kind)
        api_version = obj.setdefault("apiVersion", info.group_version)
        if kind != info.kind or api_version.split("/")[0] not in (info.group, info.version):
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({info.group_version}), or kind {kind} is not {info.kind}"
            )
        obj["apiVersion"] = info.group_version
        return obj

    def _check_namespace(self, info: ResourceInfo, namespace: str, meta: Obj) -> None:
        name = meta["name"]
        if info.group == "rbac.authorization.k8s.io":
            rbac.check_name(info.kind, info.group, name)  # RBAC names may hold ':' (system:node)
        elif not _NAME.match(name) or len(name) > 253:
            message = (
                f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                "characters, '-' or '.', and must start and end with an alphanumeric character"
            )
            raise invalid(info.kind, info.group, name, [cause("metadata.name", message)])
        if not info.namespaced:
            meta.pop("namespace", None)
            return
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        meta["namespace"] = namespace
        ns = self.store.get(builtins.NAMESPACES, "", namespace)
        if ns is None:
            raise not_found("", "namespaces", namespace)
        if ns.obj["metadata"].get("deletionTimestamp"):
            raise ApiError(
                403,
                f'{info.plural} "{name}" is forbidden: unable to create new content in namespace {namespace} '
                "because it is being terminated",
                "Forbidden",
                name=name,
                group=info.group,
                kind=info.plural,
            )

    def _generate_name(self, info: ResourceInfo, namespace: str, prefix: str) -> str:
        ns = namespace if info.namespaced else ""
        while True:
            name = prefix + "".join(random.choices(_GENERATE_ALPHABET, k=5))
            if self.store.get(info.gr, ns, name) is None:
                return name

    def _apply_schema(
        self, info: ResourceInfo, obj: Obj, old: Obj | None = None, check: FieldCheck | None = None
    ) -> Obj:
        fields.prune(obj, info)
        if info.builtin or not info.schema:
            return obj
        result: Obj = schema.prune_and_default(obj, info.schema, root=True)
        causes = schema.validate(result, info.schema)
        # x-kubernetes-validations (CEL), on create and on every update, the status subresource's included.
        warnings = check.warnings if check is not None else None
        causes += celrules.validate(celrules.tree_for(info.schema), result, old, causes, warnings)
        if causes:
            raise invalid(info.kind, info.group, obj["metadata"].get("name", ""), causes)
        return result

    # update / patch ------------------------------------------------------------------------------
    def replace(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        body: Any,
        subresource: str | None,
        check: FieldCheck | None = None,
    ) -> Obj:
        obj = self._check_body(info, body)
        meta = obj.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        if info.namespaced and meta.get("namespace", namespace) != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        return self._update(info, self.get(info, namespace, name), obj, subresource, check)

    def patch(
        self,
        info: ResourceInfo,
        namespace: str,
        name: str,
        patch_type: str,
        body: Any,
        subresource: str | None,
        force: bool = False,
        check: FieldCheck | None = None,
    ) -> tuple[Obj, bool]:
        """Apply a patch; returns (object, created) — only server-side apply creates."""
        ns = namespace if info.namespaced else ""
        current = self.store.get(info.gr, ns, name)
        if patch_type == patch.APPLY:
            if not isinstance(body, dict):
                raise bad_request("an apply patch must be an object")
            if body.get("metadata", {}).get("name", name) != name:
                raise bad_request("the name of the object does not match the name on the URL")
            if check is not None:
                check.check_apply(info, body, ns, name)
            if current is None:
                body.setdefault("metadata", {})["name"] = name
                return self.create(info, namespace, body, check), True
            merger = patch.strategic_merge if info.builtin else patch.merge_patch
            patched = merger(current.obj, body)
        else:
            if current is None:
                raise not_found(info.group, info.plural, name)
            patched = self._apply_patch(info, current.obj, patch_type, body)
            if check is not None:
                check.operation = fields.PATCH
                check.patch_body = body if patch_type == patch.STRATEGIC else patched
        if not isinstance(patched, dict):
            raise bad_request("the patched object is not a JSON object")
        patched = clone(patched)
        patched.setdefault("metadata", {})
        if patched["metadata"].get("name") != name:
            raise ApiError(422, "metadata.name cannot be changed by a patch", name=name)
        return self._update(info, current, self._check_body(info, patched), subresource, check), False

    def _apply_patch(self, info: ResourceInfo, obj: Obj, patch_type: str, body: Any) -> Any:
        try:
            if patch_type == patch.MERGE:
                return patch.merge_patch(obj, body)
            if patch_type == patch.JSON_PATCH:
                return patch.json_patch(obj, body)
            if patch_type == patch.STRATEGIC:
                if not info.builtin:
                    raise ApiError(
                        415,
                        f"the body of the request was in an unknown format - accepted media types include: "
                        f"{patch.JSON_PATCH}, {patch.MERGE}, {patch.APPLY}",
                    )
                return patch.strategic_merge(obj, body)
        except patch.PatchError as exc:
            code = 400 if exc.malformed else 422
            raise ApiError(code, str(exc), name=obj["metadata"].get("name"), group=info.group, kind=info.kind) from exc
        raise ApiError(415, f"unsupported patch type {patch_type}; accepted: {', '.join(patch.PATCH_TYPES)}")

    def _update(
        self, info: ResourceInfo, current: Stored, new: Obj, subresource: str | None, check: FieldCheck | None = None
    ) -> Obj:
        old = current.obj
        old_meta = old["metadata"]
        meta = new.setdefault("metadata", {})
        if check is not None:
            check.report(info, new, previous=old)
        rv = meta.get("resourceVersion")
        if rv and rv != old_meta["resourceVersion"]:
            raise conflict(
                info.group,
                info.plural,
                old_meta["name"],
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        if subresource == "status":
            new = {**clone(old), "status": new["status"]} if "status" in new else {**clone(old)}
            if "status" not in new:
                new.pop("status", None)
            meta = new["metadata"]
        elif info.has_status and subresource is None:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        for key in (*FIXED_META, "namespace", "name"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta.pop("managedFields", None)
        deleting = bool(old_meta.get("deletionTimestamp"))
        added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
        if deleting and added:
            message = (
                "Forbidden: no new finalizers can be added if the object is being deleted, "
                f"found new finalizers {sorted(added)!r}"
            )
            raise invalid(
                info.kind, info.group, old_meta["name"], [cause("metadata.finalizers", message, "FieldValueForbidden")]
            )
        builtins.on_write(info.gr, new)
        if info.gr == builtins.CRDS:
            crds.crd_defaults(new)
            crds.validate_crd(new, old)
            _check_crd_rules(new)
            if check is not None:
                check.warn(crd_warnings.warnings(new, old))
            new["status"] = crds.crd_status(new, now(), old)
        new = self._apply_schema(info, new, old, check)
        if _spec_part(new, info) != _spec_part(old, info):
            new["metadata"]["generation"] = int(old_meta.get("generation") or 0) + 1
        new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:
            return old  # a no-op write changes nothing, not even the resourceVersion (like etcd)
        if deleting and not new["metadata"].get("finalizers") and self._finalizable(info, new):
            return self._remove(info, new)
        if self.admission is not None:
            self.admission(info.gr, new)
        self.store.put(info.gr, new, "MODIFIED", prev=old)
        if info.gr == builtins.CRDS:
            self._register_crd(new)
        if new["metadata"].get("ownerReferences") != old_meta.get("ownerReferences"):
            gc.soon(gc.collect_orphan, self, new)
        return new

    # delete --------------------------------------------------------------------------------------
    def delete(self, info: ResourceInfo, namespace: str, name: str, options: Obj) -> Obj:
        current = self.get(info, namespace, name)
        obj = current.obj
        meta = obj["metadata"]
        preconditions = options.get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
            raise conflict(
                info.group,
                info.plural,
                name,
                f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                f"UID in object meta: {meta.get('uid')}",
            )
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta["resourceVersion"]:
            raise conflict(
                info.group,
                info.plural,
                name,
                "the object has been modified; please apply your changes to the latest version and try again",
            )
        policy = options.get("propagationPolicy") or "Background"
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        if policy not in ("Orphan", "Background", "Foreground"):
            raise bad_request(f'propagationPolicy "{policy}" is not one of Orphan, Background, Foreground')
        if policy == "Orphan":
            gc.orphan(self, meta.get("uid", ""))
        elif policy == "Foreground":
            gc.collect(self, meta.get("uid", ""), force=True)
        grace = options.get("gracePeriodSeconds")
        if info.gr == builtins.PODS and self._graceful(obj, grace):
            if meta.get("deletionTimestamp"):
                return obj
            seconds = int(grace if grace is not None else obj.get("spec", {}).get("terminationGracePeriodSeconds", 30))
            return self._mark_deleting(info, obj, seconds, extra_finalizer=None)
        if info.gr == builtins.NAMESPACES:
            new = self._mark_deleting(info, obj, 0, extra_finalizer=None, phase="Terminating")
            gc.soon(gc.clean_namespace, self, name)
            return new
        if info.gr == builtins.CRDS:
            new = self._mark_deleting(info, obj, 0, extra_finalizer=gc.CRD_CLEANUP)
            gc.soon(gc.clean_crd, self, new)
            return new
        if meta.get("finalizers"):
            return obj if meta.get("deletionTimestamp") else self._mark_deleting(info, obj, 0, extra_finalizer=None)
        return self._remove(info, clone(obj))

    @staticmethod
    def _graceful(pod: Obj, grace: Any) -> bool:
        """Pods bound to a node end gracefully (the kubelet confirms with gracePeriodSeconds=0)."""
        phase = (pod.get("status") or {}).get("phase")
        return bool(pod.get("spec", {}).get("nodeName")) and phase not in ("Succeeded", "Failed") and grace != 0

    def _mark_deleting(
        self, info: ResourceInfo, obj: Obj, grace: int, extra_finalizer: str | None, phase: str | None = None
    ) -> Obj:
        if obj["metadata"].get("deletionTimestamp") and extra_finalizer is None and phase is None:
            return obj
        new = clone(obj)
        meta = new["metadata"]
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now(grace)
            meta["deletionGracePeriodSeconds"] = grace
            meta["generation"] = int(meta.get("generation") or 0) + 1
        if extra_finalizer and extra_finalizer not in meta.setdefault("finalizers", []):
            meta["finalizers"].append(extra_finalizer)
        if phase:
            new.setdefault("status", {})["phase"] = phase
        if new == obj:
            return obj
        self.store.put(info.gr, new, "MODIFIED", prev=obj)
        return new

    def _finalizable(self, info: ResourceInfo, obj: Obj) -> bool:
        if info.gr == builtins.NAMESPACES:
            return not any(ns == obj["metadata"]["name"] for _, ns in self.store.namespaces_used())
        return True

    def _remove(self, info: ResourceInfo, obj: Obj) -> Obj:
        """Final removal: the DELETED event, then dependents and containers that waited for it."""
        self.store.remove(info.gr, obj)
        if info.gr == builtins.CRDS:
            self.registry.remove_group_resource((obj["spec"]["group"], obj["spec"]["names"]["plural"]))
        gc.soon(gc.after_remove, self, info, obj)
        return obj

    def finalize_if_done(self, info: ResourceInfo, stored: Stored) -> None:
        """Remove a deleting object whose finalizers are all gone (namespaces: once empty too)."""
        obj = stored.obj
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers") and self._finalizable(info, obj):
            self._remove(info, clone(obj))

    def _register_crd(self, crd: Obj) -> None:
        spec = crd["spec"]
        self.registry.remove_group_resource((spec["group"], spec["names"]["plural"]))
        for info in crds.resource_infos(crd):
            self.registry.add(info)


def _check_crd_rules(crd: Obj) -> None:
    causes = celrules.crd_causes(crd)
    if causes:
        raise invalid("CustomResourceDefinition", "apiextensions.k8s.io", crd["metadata"].get("name", ""), causes)


__all__ = ["Cluster", "clone", "now"]
