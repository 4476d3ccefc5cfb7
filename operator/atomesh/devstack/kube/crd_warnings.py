"""The warnings kube-apiserver returns when a CRD is written (`Warning: 299` headers, kubectl prints them).

A port of apiextensions-apiserver `pkg/registry/customresourcedefinition/strategy.go`
(`WarningsOnCreate`, `WarningsOnUpdate`): a `format` kube-apiserver does not recognise for its type
(`unrecognized format "foo"`; it is stripped and never checked), and `x-kubernetes-list-type: set`
over objects or arrays, which server-side apply and CEL do not support. On update only the warnings
the old CRD did not already earn are given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atomesh.devstack.kube import formats

Obj = dict[str, Any]


def _schemas(s: Any) -> Iterator[Obj]:
    """Every schema below `s`, as `validation.SchemaHas` walks them."""
    if not isinstance(s, dict):
        return
    yield s
    items = s.get("items")
    for sub in items if isinstance(items, list) else [items]:
        yield from _schemas(sub)
    for junctor in ("allOf", "anyOf", "oneOf"):
        for sub in s.get(junctor) or []:
            yield from _schemas(sub)
    yield from _schemas(s.get("not"))
    for mapping in ("properties", "patternProperties", "definitions", "dependencies"):
        for sub in (s.get(mapping) or {}).values():
            yield from _schemas(sub)
    for single in ("additionalProperties", "additionalItems"):
        yield from _schemas(s.get(single))


def _roots(crd: Obj) -> list[Obj]:
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, dict)]
    schemas = [(v.get("schema") or {}).get("openAPIV3Schema") for v in versions]
    if schemas and all(s == schemas[0] for s in schemas):
        schemas = schemas[:1]  # the internal form holds a shared schema once, at the top level
    return [s for s in schemas if isinstance(s, dict)]


def _formats(crd: Obj) -> list[str]:
    found = []
    for root in _roots(crd):
        for s in _schemas(root):
            format_ = s.get("format")
            if format_ and isinstance(format_, str) and not formats.recognized(str(s.get("type") or ""), format_):
                found.append(f'unrecognized format "{format_}"')
    return found


def _sets(crd: Obj) -> list[str]:
    found = set()
    for root in _roots(crd):
        for s in _schemas(root):
            items = s.get("items")
            item_type = items.get("type") if isinstance(items, dict) else None
            if s.get("x-kubernetes-list-type") == "set" and item_type in ("object", "array"):
                found.add(
                    f'x-kubernetes-list-type: set for items of type "{item_type}" is not supported by '
                    "server-side apply or CEL validation rules"
                )
    return sorted(found)


def warnings(crd: Obj, old: Obj | None = None) -> list[str]:
    if old is None:
        return _formats(crd) + _sets(crd)
    old_formats, old_sets = set(_formats(old)), set(_sets(old))
    return [w for w in _formats(crd) if w not in old_formats] + [w for w in _sets(crd) if w not in old_sets]
