"""Defaults inside a CRD schema: kube-apiserver refuses a CRD whose defaults it could not apply as written.

A port of apiextensions-apiserver `pkg/apiserver/schema/defaulting/validation.go` (`ValidateDefaults`)
and of the pruning it relies on (`pkg/apiserver/schema/pruning/algorithm.go`): every `default`
outside resource metadata must survive pruning unchanged ("must not have unknown fields") and
must validate against the schema it sits in. Defaults are followed through `properties` and
`items`, never `additionalProperties` (defaults are forbidden there).

Not emulated: the object-metadata coercion of defaults of embedded resources and CEL rules run
on defaults; such defaults are only checked against their schema.
"""

from __future__ import annotations

import copy
from typing import Any

from atomesh.devstack.kube import field_errors as fe
from atomesh.devstack.kube import schema as crschema
from atomesh.devstack.kube.field_errors import Cause, child, key
from atomesh.devstack.kube.structural import Schema, properties

META_FIELDS = ("apiVersion", "kind", "metadata")


def validate_defaults(root: Schema, path: str) -> list[Cause]:
    """`ValidateDefaults` with `isResourceRoot`: the root counts as an embedded resource."""
    return _walk(root, path, inside_meta=False, embedded=True)


def _walk(s: Schema, path: str, inside_meta: bool, embedded: bool) -> list[Cause]:
    embedded = embedded or bool(s.get("x-kubernetes-embedded-resource"))
    if embedded:
        inside_meta = False
    errors: list[Cause] = []
    default = s.get("default")
    if default is not None:
        at = child(path, "default")
        if not inside_meta:
            pruned = copy.deepcopy(default)
            prune(pruned, s, embedded)
            if pruned != default:
                errors.append(fe.invalid(at, default, "must not have unknown fields"))
        errors += _against_schema(default, s, at)
    items = s.get("items")
    if isinstance(items, dict):
        errors += _walk(items, child(path, "items"), inside_meta, False)
    for name, prop in properties(s).items():
        sub_meta = inside_meta or (embedded and name in META_FIELDS)
        errors += _walk(prop, key(child(path, "properties"), name), sub_meta, False)
    return errors


def _against_schema(value: Any, s: Schema, at: str) -> list[Cause]:
    """The default validated by the CR validator, its errors placed under `…default`.

    kube-openapi names the value at the root of what it validates with the empty string, so such a
    message reads `" in body must be …"`; the CR validator calls that place `<root>`.
    """
    placed = []
    for c in crschema.validate(value, s, resource=bool(s.get("x-kubernetes-embedded-resource"))):
        inner = c["field"]
        field = at if inner == "<root>" else child(at, inner)
        placed.append({**c, "field": field, "message": c["message"].replace("<root> in body", " in body")})
    return placed


def prune(x: Any, s: Schema | None, embedded: bool) -> None:
    """`pruning.Prune` in place: drop fields the schema does not specify (no defaulting, no nulls dropped)."""
    if s is not None and embedded and not s.get("x-kubernetes-embedded-resource"):
        s = {**s, "x-kubernetes-embedded-resource": True}
    _prune(x, s, top=True)


def _prune(x: Any, s: Schema | None, top: bool) -> None:
    if s is not None and s.get("x-kubernetes-preserve-unknown-fields"):
        _skip_prune(x, s)
        return
    if isinstance(x, dict):
        if s is None:
            x.clear()
            return
        props, extra = properties(s), s.get("additionalProperties")
        for name in list(x):
            if s.get("x-kubernetes-embedded-resource") and name in META_FIELDS:
                continue
            if name in props:
                _prune(x[name], props[name], False)
            elif extra is not None:
                _prune(x[name], extra if isinstance(extra, dict) else None, False)
            else:
                del x[name]
    elif isinstance(x, list):
        items = s.get("items") if s is not None else None
        for item in x:
            _prune(item, items if isinstance(items, dict) else None, False)


def _skip_prune(x: Any, s: Schema) -> None:
    if isinstance(x, dict):
        props, extra = properties(s), s.get("additionalProperties")
        for name, value in x.items():
            if s.get("x-kubernetes-embedded-resource") and name in META_FIELDS:
                continue
            if name in props:
                _prune(value, props[name], False)
            elif extra is not None:
                _prune(value, extra if isinstance(extra, dict) else None, False)
    elif isinstance(x, list):
        items = s.get("items")
        for item in x:
            if isinstance(items, dict):
                _skip_prune(item, items)
