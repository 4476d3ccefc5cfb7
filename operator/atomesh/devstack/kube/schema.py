"""Structural schemas of CRDs: pruning, defaulting and validation, as the API server does on every write.

Order follows kube-apiserver: unknown fields are pruned (unless `x-kubernetes-preserve-unknown-fields`),
`null`s of non-nullable fields dropped, defaults applied, then the result validated. Validation
errors become `causes` of a 422 Invalid with the field path (`spec.items[0].name`).
"""

from __future__ import annotations

import copy
import json
import math
import re
from functools import lru_cache
from typing import Any

from atomesh.devstack.kube import formats
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


def _bad(causes: list[dict[str, str]], path: str, value: Any, why: str, reason: str = "FieldValueInvalid") -> None:
    causes.append(cause(path, f"Invalid value: {_show(value)}: {why}", reason))


def _wrong_type(causes: list[dict[str, str]], path: str, type_name: str, expected: str) -> None:
    # kube-openapi's InvalidType becomes field.TypeInvalid, shown with the value's type as the value
    why = f'{path} in body must be of type {expected}: "{type_name}"'
    _bad(causes, path, type_name, why, "FieldValueTypeInvalid")


def _validate(value: Any, schema: Schema, path: str, causes: list[dict[str, str]], root: bool = False) -> None:
    where = path or "<root>"
    if value is None:
        of_type = "integer,string" if schema.get("x-kubernetes-int-or-string") else schema.get("type")
        if not schema.get("nullable") and of_type:
            _wrong_type(causes, where, "null", of_type)
        return
    # kube-openapi runs its validators side by side: a type error still gets the enum and junctor
    # errors, and reports the value's type (not the value) as the bad value.
    if schema.get("x-kubernetes-int-or-string"):
        expected = "integer,string"
        wrong = not isinstance(value, int | str) or isinstance(value, bool)
    else:
        expected = schema.get("type") or ""
        wrong = bool(expected) and not _type_ok(value, expected)
    if wrong:
        _wrong_type(causes, where, _type_name(value), expected)
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(json.dumps(v if isinstance(v, str) else json.dumps(v)) for v in schema["enum"])
        causes.append(
            cause(where, f"Unsupported value: {_show(value)}: supported values: {supported}", "FieldValueNotSupported")
        )
    if isinstance(value, int | float) and not isinstance(value, bool) and expected in ("integer", "number"):
        problem = formats.range_error(value, expected, str(schema.get("format") or ""), where)
        if problem:
            _composite(causes, problem)
    if wrong:
        pass
    elif isinstance(value, str):
        _validate_string(value, schema, where, causes)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        _validate_number(value, schema, where, causes)
    elif isinstance(value, list):
        _validate_array(value, schema, path, causes)
    elif isinstance(value, dict):
        _validate_object(value, schema, path, causes, root)
    _junctors(value, schema, path, causes)


def _composite(causes: list[dict[str, str]], message: str) -> None:
    # kube-openapi's composite errors (allOf, anyOf, oneOf, not) name no field: apiextensions turns them
    # into field.Invalid at a nil path, which Go prints, and names the cause, as "<nil>".
    causes.append(cause("<nil>", f'Invalid value: "": {message}'))


def _junctors(value: Any, schema: Schema, path: str, causes: list[dict[str, str]]) -> None:
    """kube-openapi's `schemaPropsValidator` messages (`validate/schema_messages.go`).

    Not reproduced: the errors of the best-matching failed alternative, which kube-openapi picks by
    counting passed checks and adds after an anyOf or oneOf error.
    """
    quoted = json.dumps(path)  # Go's %q
    any_of = schema.get("anyOf") or []
    if any_of and all(validate(value, sub, path) for sub in any_of):
        _composite(causes, f"{quoted} must validate at least one schema (anyOf)")
    one_of = schema.get("oneOf") or []
    if one_of:
        passing = sum(1 for sub in one_of if not validate(value, sub, path))
        if passing != 1:
            found = "Found none valid" if passing == 0 else f"Found {passing} valid alternatives"
            _composite(causes, f"{quoted} must validate one and only one schema (oneOf). {found}")
    all_of = schema.get("allOf") or []
    failed = 0
    for sub in all_of:
        before = len(causes)
        _validate(value, sub, path, causes)
        failed += len(causes) > before
    if failed:
        none = ". None validated" if failed == len(all_of) else ""
        _composite(causes, f"{quoted} must validate all the schemas (allOf){none}")
    if isinstance(schema.get("not"), dict) and not validate(value, schema["not"], path):
        _composite(causes, f"{quoted} must not validate the schema (not)")


def _validate_string(value: str, schema: Schema, where: str, causes: list[dict[str, str]]) -> None:
    # kube-openapi's stringValidator stops at its first failure; its formatValidator runs apart
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        causes.append(cause(where, f"Too long: may not be more than {schema['maxLength']} bytes", "FieldValueTooLong"))
    elif "minLength" in schema and len(value) < schema["minLength"]:
        _bad(causes, where, value, f"{where} in body should be at least {schema['minLength']} chars long")
    elif "pattern" in schema and not _regex(schema["pattern"]).search(value):
        _bad(causes, where, value, f"{where} in body should match '{schema['pattern']}'")
    problem = formats.string_error(str(schema.get("format") or ""), value, where) if schema.get("format") else None
    if problem:
        _bad(causes, where, value, problem, "FieldValueTypeInvalid")


def _validate_number(value: float, schema: Schema, where: str, causes: list[dict[str, str]]) -> None:
    # kube-openapi (errors/schema.go): "greater than" alone when the minimum is exclusive
    if "minimum" in schema:
        low, exclusive = schema["minimum"], schema.get("exclusiveMinimum") is True
        if value < low or (exclusive and value == low):
            bound = "greater than" if exclusive else "greater than or equal to"
            _bad(causes, where, value, f"{where} in body should be {bound} {_go_number(low)}")
    if "maximum" in schema:
        high, exclusive = schema["maximum"], schema.get("exclusiveMaximum") is True
        if value > high or (exclusive and value == high):
            bound = "less than" if exclusive else "less than or equal to"
            _bad(causes, where, value, f"{where} in body should be {bound} {_go_number(high)}")
    step = schema.get("multipleOf")
    if step and not math.isclose(value / step, round(value / step)):
        _bad(causes, where, value, f"{where} in body should be a multiple of {_go_number(step)}")


def _go_number(number: float) -> str:
    """A bound as Go's %v prints it: whole floats without a fraction (below 1e21, where %v turns to %e)."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    return str(number)


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
