"""Pydantic validation errors translated into messages that say what is wrong and what is allowed.

The kind's structural CRD schema (generated from the same models) supplies what is allowed at a
path: the fields of an object, the values of an enum, the bounds and the description.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from atomesh.api.common import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, DURATION_PATTERN
from atomesh.core.validation import FieldError, Loc

JsonSchema = Mapping[str, Any]

_PATTERN_WORDS = {
    DNS_SUBDOMAIN_PATTERN: "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
    DNS_LABEL_PATTERN: "lowercase letters, digits and '-', starting and ending with a letter or digit",
    DURATION_PATTERN: "a duration such as 90s, 15m or 1h30m",
}
_TYPE_ERRORS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def type_name(value: Any) -> str:
    """The YAML/JSON type of a value, as users write it."""
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
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def schema_at(schema: JsonSchema, loc: Loc) -> JsonSchema | None:
    """The sub-schema of a field, following properties, list items and map values."""
    node: JsonSchema | None = schema
    for part in loc:
        if node is None:
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            extra = node.get("additionalProperties")
            node = extra if isinstance(extra, Mapping) else None
    return node


def _locate(data: Any, loc: tuple[Any, ...]) -> Loc:
    """Cut pydantic's loc to the part present in the data (drops union member tags such as `int`)."""
    kept: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, dict) and isinstance(part, str) and (part in node or last):
            kept.append(part)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            kept.append(part)
            node = node[part]
        else:
            break
    return tuple(kept)


def _value_at(data: Any, loc: Loc) -> Any:
    try:
        for part in loc:
            data = data[part]
    except (KeyError, IndexError, TypeError):
        return None
    return data


# Fields renamed before the first release: old name -> (new name, why), explained when the old one is used.
_RENAMED: dict[str, tuple[str, str]] = {
    "on": ("when", "`when: accepted` or `when: completed`; YAML 1.1 parsers such as kubectl's read a bare on: as true"),
}


def _bounds(field: JsonSchema, unit: str, low: str, high: str) -> str:
    parts = []
    if low in field:
        parts.append(f"at least {field[low]}{unit}")
    if high in field:
        parts.append(f"at most {field[high]}{unit}")
    return " and ".join(parts)


def _message(error: ErrorDetails, field: JsonSchema, value: Any, parent: JsonSchema | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        about = f" ({field['description']})" if field.get("description") else ""
        return f"required field is missing{about}"
    if kind == "extra_forbidden":
        allowed = sorted((parent or {}).get("properties", {}))
        name = str(error["loc"][-1])
        renamed = _RENAMED.get(name)
        if renamed is not None and renamed[0] in allowed:
            return f"unknown field {name!r}: it is now {renamed[0]!r} ({renamed[1]})"
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return f"unknown field {name!r}; allowed fields: {', '.join(allowed)}{hint}"
    if kind == "literal_error" or (kind == "enum" and "enum" in field):
        options = field.get("enum") or [ctx.get("expected", "")]
        return f"{value!r} is not allowed; must be one of: {', '.join(map(str, options))}"
    if kind in _TYPE_ERRORS:
        expected = _TYPE_ERRORS[kind]
        if field.get("x-kubernetes-int-or-string"):
            expected = 'an integer or a string (e.g. 1 or "500m")'
        return f"must be {expected}, not {type_name(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        limits = _bounds(field, "", "minimum", "maximum")
        if field.get("exclusiveMinimum"):
            limits = f"greater than {field['minimum']}"
        return f"{value!r} is out of range; must be {limits}"
    if kind in ("string_too_short", "string_too_long"):
        if kind == "string_too_short" and field.get("minLength") == 1:
            return "must not be empty"
        return f"must have {_bounds(field, ' characters', 'minLength', 'maxLength')}"
    if kind in ("too_short", "too_long"):
        return f"must have {_bounds(field, ' item(s)', 'minItems', 'maxItems')}, not {len(value)}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", field.get("pattern", "")))
        return f"{value!r} is not allowed; must be {_PATTERN_WORDS.get(pattern, f'matching {pattern}')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return str(error["msg"])


def translate(error: ValidationError, data: Any, schema: JsonSchema, prefix: Loc) -> list[FieldError]:
    """One FieldError per problem (union members merged), locs starting with `prefix`."""
    found: dict[Loc, FieldError] = {}
    for details in error.errors(include_url=False):
        loc = _locate(data, tuple(details["loc"]))
        field = schema_at(schema, loc) or {}
        parent = schema_at(schema, loc[:-1]) if loc else None
        value = _value_at(data, loc)
        full = (*prefix, *loc)
        if full not in found:
            found[full] = FieldError(full, _message(details, field, value, parent))
    return list(found.values())
