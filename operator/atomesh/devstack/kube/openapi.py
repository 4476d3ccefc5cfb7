"""OpenAPI v3: the index and one document per group/version.

kubectl needs, per kind, a PATCH operation tagged with `x-kubernetes-group-version-kind` and a
`fieldValidation` query parameter (else "failed to download openapi"); `kubectl explain` reads
the kind's schema from `components.schemas`. Built-in kinds do not advertise strategic merge
here, so kubectl computes it from its compiled-in types, exactly as it does for them anyway.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.resources import Registry, ResourceInfo

Obj = dict[str, Any]
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml")

_OBJECT_META_SCHEMA: Obj = {
    "description": "ObjectMeta is metadata that all persisted resources must have.",
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Name must be unique within a namespace."},
        "namespace": {
            "type": "string",
            "description": "Namespace defines the space within which each name must be unique.",
        },
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Map of string keys and values that can be used to organize and categorize objects.",
        },
        "annotations": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Annotations is an unstructured key value map stored with a resource.",
        },
        "uid": {"type": "string", "description": "UID is the unique in time and space value for this object."},
        "resourceVersion": {
            "type": "string",
            "description": "An opaque value that represents the internal version of this object.",
        },
        "generation": {
            "type": "integer",
            "format": "int64",
            "description": "A sequence number representing a specific generation of the desired state.",
        },
        "finalizers": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Must be empty before the object is deleted from the registry.",
        },
        "ownerReferences": {
            "type": "array",
            "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "description": "List of objects depended by this object.",
        },
        "creationTimestamp": {"type": "string", "format": "date-time", "description": "Creation time."},
        "deletionTimestamp": {"type": "string", "format": "date-time", "description": "Deletion time."},
    },
}


OBJECT_META_SCHEMA = _OBJECT_META_SCHEMA  # shared with the v2 document (openapi_v2.py)


def schema_name(info: ResourceInfo) -> str:
    if info.builtin:
        return f"io.k8s.api.{info.group.split('.')[0] or 'core'}.{info.version}.{info.kind}"
    return ".".join(reversed(info.group.split("."))) + f".{info.version}.{info.kind}"


def _gvk(info: ResourceInfo) -> Obj:
    return {"group": info.group, "version": info.version, "kind": info.kind}


def _kind_schema(info: ResourceInfo) -> Obj:
    if info.schema:
        result: Obj = copy.deepcopy(info.schema)
    else:
        result = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    result.setdefault("description", f"{info.kind} is a {'built-in' if info.builtin else 'custom'} resource.")
    properties = result.setdefault("properties", {})
    properties["apiVersion"] = {
        "type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object.",
    }
    properties["kind"] = {
        "type": "string",
        "description": "Kind is a string value representing the REST resource this object represents.",
    }
    properties["metadata"] = {
        "description": "Standard object's metadata.",
        "allOf": [{"$ref": f"#/components/schemas/{OBJECT_META}"}],
    }
    result["x-kubernetes-group-version-kind"] = [_gvk(info)]
    return result


def _param(name: str, where: str = "query", description: str = "") -> Obj:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description or name,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _paths(info: ResourceInfo) -> dict[str, Obj]:
    prefix = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
    base = f"{prefix}/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"{prefix}/{info.plural}"
    ref = {"$ref": f"#/components/schemas/{schema_name(info)}"}
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
    path_params = [_param("namespace", "path")] if info.namespaced else []
    item_params = [
        *path_params,
        _param("name", "path", f"name of the {info.kind}"),
        _param("dryRun"),
        _param("fieldManager"),
        _param("fieldValidation", description="Strict, Warn or Ignore handling of unknown or duplicate fields."),
        _param("pretty"),
    ]
    op_id = f"{info.kind}{info.group}{info.version}"
    extension = {"x-kubernetes-group-version-kind": _gvk(info)}
    return {
        base: {
            "get": {"operationId": f"list{op_id}", "responses": ok, "x-kubernetes-action": "list", **extension},
            "post": {
                "operationId": f"create{op_id}",
                "responses": ok,
                "x-kubernetes-action": "post",
                **extension,
                "requestBody": {"content": {"application/json": {"schema": ref}}},
            },
            "parameters": path_params,
        },
        f"{base}/{{name}}": {
            "get": {"operationId": f"read{op_id}", "responses": ok, "x-kubernetes-action": "get", **extension},
            "put": {
                "operationId": f"replace{op_id}",
                "responses": ok,
                "x-kubernetes-action": "put",
                **extension,
                "requestBody": {"content": {"application/json": {"schema": ref}}},
            },
            "delete": {"operationId": f"delete{op_id}", "responses": ok, "x-kubernetes-action": "delete", **extension},
            "patch": {
                "operationId": f"patch{op_id}",
                "requestBody": {"content": {t: {"schema": {"type": "object"}} for t in PATCH_TYPES}},
                "responses": ok,
                "x-kubernetes-action": "patch",
                "parameters": item_params,  # kubectl looks for fieldValidation here
                **extension,
            },
            "parameters": item_params,
        },
    }


def document(registry: Registry, group: str, version: str) -> Obj | None:
    infos = registry.in_group_version(group, version)
    if not infos:
        return None
    paths: dict[str, Obj] = {}
    schemas: dict[str, Obj] = {OBJECT_META: _OBJECT_META_SCHEMA}
    for info in infos:
        paths.update(_paths(info))
        schemas[schema_name(info)] = _kind_schema(info)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def index(registry: Registry) -> Obj:
    """Each entry's hash changes with its document, so kubectl's cache refreshes when CRDs change."""
    paths: dict[str, Obj] = {}
    seen = {(i.group, i.version) for i in registry if i.served}
    for group, version in sorted(seen):
        doc = document(registry, group, version)
        digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest().upper()
        paths[_key(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_key(group, version)}?hash={digest}"}
    return {"paths": paths}


def route(registry: Registry, rest: list[str]) -> Obj:
    """`/openapi/v3` (the index) or `/openapi/v3/api/V`, `/openapi/v3/apis/G/V` (one document)."""
    if rest == ["v3"]:
        return index(registry)
    key = rest[1:] if rest[:1] == ["v3"] else []
    doc = None
    if len(key) == 2 and key[0] == "api":
        doc = document(registry, "", key[1])
    elif len(key) == 3 and key[0] == "apis":
        doc = document(registry, key[1], key[2])
    if doc is None:
        raise ApiError(404, "the server could not find the requested resource")
    return doc
