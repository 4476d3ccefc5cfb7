"""OpenAPI v2 (`GET /openapi/v2`), the JSON form, generated from the same registry as v3.

Each served kind is a definition tagged with `x-kubernetes-group-version-kind`, with list/create/
get/replace/delete/patch operations on its paths. A CRD version's schema is published the way
kube-apiserver publishes it in v2 (apiextensions-apiserver
`pkg/controller/openapi/v2/conversion.go`, `ToStructuralOpenAPIV2`): allOf/oneOf/anyOf/not
dropped, nullable fields untyped and left out of `required`, preserve-unknown-fields nodes
without properties/items or `type: object`, and arrays without items untyped.

The protobuf form (gnostic's `openapi_v2.Document`, which client-go's `OpenAPISchema()` asks for)
is encoded from this document by openapi_v2_proto.py; any other media type gets 406.
"""

from __future__ import annotations

import copy
from typing import Any

from atomesh.devstack.kube import openapi, openapi_v2_proto
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.resources import Registry, ResourceInfo
from atomesh.devstack.kube.store import encode

Obj = dict[str, Any]
JSON = "application/json"
# kube-openapi `pkg/handler/handler.go`: clients ask for either name, the answer is labelled with the dotted one
PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
PROTOBUF_DEPRECATED = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
_JUNCTORS = ("allOf", "oneOf", "anyOf", "not")


def media_type_for(accept: str) -> str:
    """The media type to answer with: the first acceptable one, as kube-openapi's handler picks it."""
    types = [part.split(";")[0].strip() for part in accept.split(",") if part.strip()]
    for wanted in types or [JSON]:
        if wanted in (JSON, "application/*", "*/*"):
            return JSON
        if wanted in (PROTOBUF, PROTOBUF_DEPRECATED):
            return PROTOBUF
    raise ApiError(
        406,
        f"/openapi/v2 is served as {JSON} or {PROTOBUF}, not {', '.join(types)}",
        "NotAcceptable",
    )


def to_v2(schema: Any) -> Any:
    """`ToStructuralOpenAPIV2`: what OpenAPI v2 (and kubectl's v2 validation) cannot express, removed."""
    if isinstance(schema, list):
        return [to_v2(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: Obj = {k: v for k, v in schema.items() if k not in _JUNCTORS}
    if out.pop("nullable", False):
        out.pop("type", None)
        out.pop("items", None)
        out.pop("properties", None)
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("items", None)
        out.pop("properties", None)
    if out.get("type") == "array" and "items" not in out:
        out.pop("type")
    if out.get("x-kubernetes-preserve-unknown-fields") and out.get("type") == "object":
        out.pop("type")
    properties = schema.get("properties") if "properties" in out else None
    if isinstance(properties, dict):
        nullable = {name for name, prop in properties.items() if isinstance(prop, dict) and prop.get("nullable")}
        if nullable and "required" in out:
            out["required"] = [name for name in out["required"] if name not in nullable] or None
        out["properties"] = {name: to_v2(prop) for name, prop in properties.items()}
    additional = out.get("additionalProperties")
    if isinstance(additional, dict):
        if additional.get("nullable"):
            out["required"] = None
        out["additionalProperties"] = to_v2(additional)
    if "items" in out:
        out["items"] = to_v2(out["items"])
    if out.get("required") is None:
        out.pop("required", None)
    return out


def _ref(name: str) -> Obj:
    return {"$ref": f"#/definitions/{name}"}


def _definition(info: ResourceInfo) -> Obj:
    if info.schema:
        result: Obj = to_v2(copy.deepcopy(info.schema))
    else:
        result = {"type": "object"}  # a built-in kind: the emulator publishes no schema for its fields
    result.setdefault("description", f"{info.kind} is a {'built-in' if info.builtin else 'custom'} resource.")
    properties = result.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "description": "APIVersion defines the versioned schema."}
    properties["kind"] = {"type": "string", "description": "Kind is a string value representing the REST resource."}
    properties["metadata"] = {"description": "Standard object's metadata.", **_ref(openapi.OBJECT_META)}
    result["x-kubernetes-group-version-kind"] = [{"group": info.group, "kind": info.kind, "version": info.version}]
    return result


def _param(name: str, where: str = "query", description: str = "") -> Obj:
    param: Obj = {"name": name, "in": where, "description": description or name, "type": "string"}
    if where == "path":
        param["required"] = True
    else:
        param["uniqueItems"] = True
    return param


def _operation(info: ResourceInfo, verb: str, action: str, schema: Obj, **extra: Any) -> Obj:
    return {
        "operationId": f"{verb}{info.kind}{info.group}{info.version}",
        "consumes": ["*/*"],
        "produces": [JSON],
        "schemes": ["https"],
        "responses": {"200": {"description": "OK", "schema": schema}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": info.group, "kind": info.kind, "version": info.version},
        **extra,
    }


def _paths(info: ResourceInfo) -> dict[str, Obj]:
    prefix = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
    base = f"{prefix}/namespaces/{{namespace}}/{info.plural}" if info.namespaced else f"{prefix}/{info.plural}"
    ref = _ref(openapi.schema_name(info))
    body = {"name": "body", "in": "body", "required": True, "schema": ref}
    common = [_param("namespace", "path")] if info.namespaced else []
    item = [*common, _param("name", "path", f"name of the {info.kind}")]
    writes = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
    patch = _operation(info, "patch", "patch", ref, parameters=[{**body, "schema": {"type": "object"}}, *writes])
    # strategic merge patch is accepted for built-in kinds only
    strategic = ["application/strategic-merge-patch+json"] if info.builtin else []
    patch["consumes"] = [*openapi.PATCH_TYPES, *strategic]
    return {
        base: {
            "get": _operation(info, "list", "list", {"type": "object"}),
            "post": _operation(info, "create", "post", ref, parameters=[body, *writes]),
            "parameters": common,
        },
        f"{base}/{{name}}": {
            "get": _operation(info, "read", "get", ref),
            "put": _operation(info, "replace", "put", ref, parameters=[body, *writes]),
            "delete": _operation(info, "delete", "delete", {"type": "object"}),
            "patch": patch,
            "parameters": item,
        },
    }


def document(registry: Registry) -> Obj:
    """The whole API in one Swagger 2.0 document, as kube-apiserver's `/openapi/v2` has it."""
    paths: dict[str, Obj] = {}
    definitions: dict[str, Obj] = {openapi.OBJECT_META: to_v2(copy.deepcopy(openapi.OBJECT_META_SCHEMA))}
    for info in registry:
        if not info.served:
            continue
        paths.update(_paths(info))
        definitions[openapi.schema_name(info)] = _definition(info)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": paths,
        "definitions": definitions,
    }


def serve(registry: Registry, accept: str) -> tuple[bytes, str]:
    """The body and media type answering `GET /openapi/v2` with this `Accept` header."""
    media_type = media_type_for(accept)
    doc = document(registry)
    return (openapi_v2_proto.document(doc) if media_type == PROTOBUF else encode(doc)), media_type
