"""Structural schemas of CRDs: pruning, defaulting and validation, as the API server does on every write.

Order follows kube-apiserver: unknown fields are pruned (unless `x-kubernetes-preserve-unknown-fields`),
`null`s of non-nullable fields dropped, defaults applied, then the result validated. Validation
errors become `causes` of a 422 Invalid with the field path (`spec.items[0].name`).
"""

from __future__ import annotations

import copy
import math
import re
from functools import lru_cache
from typing import Any

from atomesh.devstack.kube.errors import cause

Schema = dict[str, Any]
ROOT_KEEP = ("apiVersion", "kind", "metadata")


def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune_and_default(value: Any, schema: Schema, root: bool = False) -> Any:
    """A new value: unknown fields pruned, non-nullable nulls dropped, defaults filled in."""
    if schema.get("x-kubernetes-int-or-string"):
        return value
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keep_all = _preserves(schema) or extra is True
        embedded = root or schema.get("x-kubernetes-embedded-resource")
        result: dict[str, Any] = {}
        for key, item in value.items():
            if embedded and key in ROOT_KEEP:  # object metadata is never pruned by the CRD schema
                result[key] = item
                continue
            sub = properties.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is not None:
                if item is None and not sub.get("nullable"):
                    continue
                result[key] = prune_and_default(item, sub)
            elif keep_all:
                result[key] = item
        for key, sub in properties.items():
            if key not in result and "default" in sub:
                result[key] = prune_and_default(copy.deepcopy(sub["default"]), sub)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune_and_default(item, schema["items"]) for item in value]
    return value


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict | list):
        return _type_name(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _type_ok(value: Any, expected: str) -> bool:
    if expected == "integer" and isinstance(value, float):
        return value.is_integer()
    if isinstance(value, bool) and expected in ("integer", "number"):
        return False
    return isinstance(value, _TYPES.get(expected, (object,)))


def validate(value: Any, schema: Schema, path: str = "", *, resource: bool = True) -> list[dict[str, str]]:
    """Field errors as API `causes`; empty when valid. A `resource` keeps apiVersion, kind and metadata
    out of the schema's reach; a plain value (a schema's `default`) does not."""
    causes: list[dict[str, str]] = []
    _validate(value, schema, path, causes, root=resource)
    return causes


def _bad(causes: list[dict[str, str]], path: str, value: Any, why: str) -> None:
    causes.append(cause(path, f"Invalid value: {_show(value)}: {why}"))


def _validate(value: Any, schema: Schema, path: str, causes: list[dict[str, str]], root: bool = False) -> None:
    where = path or "<root>"
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            _bad(causes, where, "null", f'{where} in body must be of type {schema["type"]}: "null"')
        return
    if schema.get("x-kubernetes-int-or-string"):
        if not isinstance(value, int | str) or isinstance(value, bool):
            # kube-openapi reports the value's type as the bad value, not the value itself
            _bad(
                causes,
                where,
                _type_name(value),
                f'{where} in body must be of type integer,string: "{_type_name(value)}"',
            )
        return
    expected = schema.get("type")
    if expected and not _type_ok(value, expected):
        _bad(causes, where, _type_name(value), f'{where} in body must be of type {expected}: "{_type_name(value)}"')
        return
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(_show(v) for v in schema["enum"])
        causes.append(
            cause(where, f"Unsupported value: {_show(value)}: supported values: {supported}", "FieldValueNotSupported")
        )
    if isinstance(value, str):
        _validate_string(value, schema, where, causes)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(value, schema, where, causes)
    elif isinstance(value, list):
        _validate_array(value, schema, path, causes)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, causes, root)
    for sub in schema.get("allOf") or []:
        _validate(value, sub, path, causes)
    for key, minimum in (("anyOf", 1), ("oneOf", 1)):
        options = schema.get(key)
        if options:
            passing = sum(1 for sub in options if not validate(value, sub, path))
            if passing < minimum or (key == "oneOf" and passing > 1):
                _bad(
                    causes,
                    where,
                    value,
                    f"{where} in body must match {'exactly one' if key == 'oneOf' else 'at least one'} schema in {key}",
                )
    if isinstance(schema.get("not"), dict) and not validate(value, schema["not"], path):
        _bad(causes, where, value, f"{where} in body must not match the schema in not")


def _validate_string(value: str, schema: Schema, where: str, causes: list[dict[str, str]]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        causes.append(cause(where, f"Too long: may not be more than {schema['maxLength']} bytes", "FieldValueTooLong"))
    if "minLength" in schema and len(value) < schema["minLength"]:
        _bad(causes, where, value, f"{where} in body should be at least {schema['minLength']} chars long")
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        _bad(causes, where, value, f"{where} in body should match '{schema['pattern']}'")


def _validate_number(value: float, schema: Schema, where: str, causes: list[dict[str, str]]) -> None:
    if "minimum" in schema:
        low = schema["minimum"]
        if value < low or (schema.get("exclusiveMinimum") is True and value == low):
            _bad(causes, where, value, f"{where} in body should be greater than or equal to {low}")
    if "maximum" in schema:
        high = schema["maximum"]
        if value > high or (schema.get("exclusiveMaximum") is True and value == high):
            _bad(causes, where, value, f"{where} in body should be less than or equal to {high}")
    step = schema.get("multipleOf")
    if step and not math.isclose(value / step, round(value / step)):
        _bad(causes, where, value, f"{where} in body should be a multiple of {step}")


def _validate_array(value: list[Any], schema: Schema, path: str, causes: list[dict[str, str]]) -> None:
    where = path or "<root>"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        causes.append(
            cause(where, f"Too many: {len(value)}: must have at most {schema['maxItems']} items", "FieldValueTooMany")
        )
    if "minItems" in schema and len(value) < schema["minItems"]:
        _bad(causes, where, value, f"{where} in body should have at least {schema['minItems']} items")
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _validate(item, items, f"{path}[{index}]", causes)
    keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") == "map" and keys:
        seen: set[tuple[Any, ...]] = set()
        for index, item in enumerate(value):
            ident = tuple(item.get(k) for k in keys) if isinstance(item, dict) else (item,)
            if ident in seen:
                causes.append(
                    cause(
                        f"{path}[{index}]",
                        f"Duplicate value: {_show(dict(zip(keys, ident, strict=True)))}",
                        "FieldValueDuplicate",
                    )
                )
            seen.add(ident)


def _validate_object(
    value: dict[str, Any], schema: Schema, path: str, causes: list[dict[str, str]], root: bool
) -> None:
    prefix = f"{path}." if path else ""
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(cause(f"{prefix}{key}", "Required value", "FieldValueRequired"))
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        causes.append(
            cause(
                path or "<root>",
                f"Too many: {len(value)}: must have at most {schema['maxProperties']} items",
                "FieldValueTooMany",
            )
        )
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        _bad(
            causes, path or "<root>", value, f"{path} in body should have at least {schema['minProperties']} properties"
        )
    properties: dict[str, Schema] = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if root and key in ROOT_KEEP:
            continue
        sub = properties.get(key)
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is not None:
            _validate(item, sub, f"{prefix}{key}", causes)
