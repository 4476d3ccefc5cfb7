"""Structural schemas: the rules a CRD's `openAPIV3Schema` must follow before kube-apiserver serves it.

A port of apiextensions-apiserver `pkg/apiserver/schema` — `convert.go` (`NewStructural`: which
schemas can be made structural at all), `validation.go` (`ValidateStructural`: every field and
item has a type outside value validations, `metadata` at the root restricts only name and
generateName, nothing type-like inside `allOf`/`anyOf`/`oneOf`/`not`, the two int-or-string
patterns) and `complete.go` (whatever a value validation names is also specified structurally).
It works on the schema as JSON, the way clients send it.
"""

from __future__ import annotations

import re
from typing import Any

from atomesh.devstack.kube import field_errors as fe
from atomesh.devstack.kube.field_errors import Cause, child, index, key

Schema = dict[str, Any]

ROOT, ITEM, FIELD = "root", "item", "field"
_EMPTY_TYPE = {
    ROOT: "must not be empty at the root",
    ITEM: "must not be empty for specified array items",
    FIELD: "must not be empty for specified object fields",
}
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
_UNSUPPORTED = ("id", "$schema", "$ref", "patternProperties", "dependencies", "additionalItems", "definitions")
_UNSUPPORTED_NAMES = {"$schema": "schema"}
_JUNCTORS = ("allOf", "anyOf", "oneOf")


def _dict(value: Any) -> Schema | None:
    return value if isinstance(value, dict) else None


def properties(s: Schema) -> dict[str, Schema]:
    props = s.get("properties")
    return {k: v for k, v in props.items() if isinstance(v, dict)} if isinstance(props, dict) else {}


def conversion_error(s: Schema) -> str | None:
    """Why `NewStructural` cannot convert the schema at all, or None (it walks in Go's order)."""
    for name in _UNSUPPORTED:
        if s.get(name) not in (None, "", [], {}):
            return f"OpenAPIV3Schema '{_UNSUPPORTED_NAMES.get(name, name)}' is not supported"
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        return "internal error: 'x-kubernetes-preserve-unknown-fields' must be true or undefined"
    nested: list[Any] = [s.get("not"), *[c for j in _JUNCTORS for c in s.get(j) or []]]
    items = s.get("items")
    if isinstance(items, list):
        return "OpenAPIV3Schema 'items' must be a schema, but is an array"
    nested += [items, *properties(s).values(), s.get("additionalProperties")]
    for sub in nested:
        if isinstance(sub, dict) and (error := conversion_error(sub)):
            return error
    return None


def validate_structural(s: Schema, path: str) -> list[Cause]:
    """`ValidateStructural`: invariants and completeness, sorted by their text as kube sorts them."""
    errors = _invariants(s, ROOT, path) + _completeness(s, s, path, path)
    return sorted(errors, key=fe.text)


def _invariants(s: Schema | None, level: str, path: str) -> list[Cause]:
    if s is None:
        return []
    errors: list[Cause] = []
    type_ = s.get("type") or ""
    items = _dict(s.get("items"))
    if type_ == "array" and items is None:
        errors.append(fe.required(child(path, "items"), "must be specified"))
    errors += _invariants(items, ITEM, child(path, "items"))
    for name, prop in properties(s).items():
        errors += _invariants(prop, FIELD, key(child(path, "properties"), name))
    extra = s.get("additionalProperties")
    if extra is not None:
        if level == ROOT:
            errors.append(fe.forbidden(child(path, "additionalProperties"), "must not be used at the root"))
        errors += _invariants(_dict(extra), FIELD, child(path, "additionalProperties"))
    int_or_string = bool(s.get("x-kubernetes-int-or-string"))
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(s.get("x-kubernetes-embedded-resource"))
    if int_or_string and preserve:
        errors.append(
            fe.invalid(
                child(path, "x-kubernetes-preserve-unknown-fields"),
                True,
                "must be false if x-kubernetes-int-or-string is true",
            )
        )
    if int_or_string and embedded:
        errors.append(
            fe.invalid(
                child(path, "x-kubernetes-embedded-resource"),
                True,
                "must be false if x-kubernetes-int-or-string is true",
            )
        )
    all_of = s.get("allOf") or []
    skip_any_of = s.get("anyOf") == _INT_OR_STRING_ANY_OF
    skip_first = bool(all_of) and isinstance(all_of[0], dict) and all_of[0].get("anyOf") == _INT_OR_STRING_ANY_OF
    errors += _value_validation(s, skip_any_of, skip_first, path)
    check_metadata = level == ROOT or embedded
    if embedded and type_ != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        errors.append(
            fe.invalid(child(path, "type"), type_, detail) if type_ else fe.required(child(path, "type"), detail)
        )
    elif not type_ and not int_or_string and not preserve:
        errors.append(fe.required(child(path, "type"), _EMPTY_TYPE[level]))
    if embedded and extra is not None:
        errors.append(
            fe.forbidden(
                child(path, "additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"
            )
        )
    if level == ROOT and type_ and type_ != "object":
        errors.append(fe.invalid(child(path, "type"), type_, "must be object at the root"))
    props = properties(s)
    for name in ("kind", "apiVersion"):
        if name in props and check_metadata and props[name].get("type") != "string":
            errors.append(
                fe.invalid(
                    child(key(child(path, "properties"), name), "type"), props[name].get("type") or "", "must be string"
                )
            )
    if "metadata" in props:
        errors += _metadata(props["metadata"], check_metadata, level, key(child(path, "properties"), "metadata"))
    if embedded and not preserve and not props:
        errors.append(
            fe.required(
                child(path, "properties"),
                "must not be empty if x-kubernetes-embedded-resource is true "
                "without x-kubernetes-preserve-unknown-fields",
            )
        )
    return errors


def _is_zero(value: Any) -> bool:
    # Go's zero values after NewStructural: false, "", nil, and junctor/enum/properties lists that
    # NewStructural only fills element by element (an empty one stays nil).
    return value is None or value is False or value == "" or value == {}


def _metadata(s: Schema, check_metadata: bool, level: str, path: str) -> list[Cause]:
    errors: list[Cause] = []
    if check_metadata and s.get("type") != "object":
        errors.append(fe.invalid(child(path, "type"), s.get("type") or "", "must be object"))
    if level == ROOT:
        rest = {k: v for k, v in s.items() if k not in ("type", "default")}
        names = set(properties(s))
        if names and names <= {"name", "generateName"}:
            rest.pop("properties", None)
        for name in ("enum", *_JUNCTORS):
            if rest.get(name) == []:
                rest.pop(name)
        if any(not _is_zero(v) for v in rest.values()):
            # kube-apiserver says Forbidden here (its own TODO notes it would rather say Invalid)
            errors.append(
                fe.forbidden(
                    path,
                    "must not specify anything other than name and generateName, but metadata is implicitly specified",
                )
            )
    return errors


def _value_validation(v: Schema, skip_any_of: bool, skip_first_all_of_any_of: bool, path: str) -> list[Cause]:
    errors: list[Cause] = []
    if not skip_any_of:
        for i, clause in enumerate(v.get("anyOf") or []):
            errors += _nested(_dict(clause), False, index(child(path, "anyOf"), i))
    for i, clause in enumerate(v.get("allOf") or []):
        errors += _nested(_dict(clause), skip_first_all_of_any_of and i == 0, index(child(path, "allOf"), i))
    for i, clause in enumerate(v.get("oneOf") or []):
        errors += _nested(_dict(clause), False, index(child(path, "oneOf"), i))
    errors += _nested(_dict(v.get("not")), False, child(path, "not"))
    pattern = v.get("pattern")
    if isinstance(pattern, str) and pattern and (problem := go_regexp_error(pattern)):
        errors.append(
            fe.invalid(child(path, "pattern"), pattern, f"must be a valid regular expression, but isn't: {problem}")
        )
    return errors


_NESTED_FORBIDDEN = (
    ("type", "must be empty to be structural"),
    ("title", "must be empty to be structural"),
    ("description", "must be empty to be structural"),
    ("nullable", "must be false to be structural"),
    ("x-kubernetes-preserve-unknown-fields", "must be false to be structural"),
    ("x-kubernetes-embedded-resource", "must be false to be structural"),
    ("x-kubernetes-int-or-string", "must be false to be structural"),
    ("x-kubernetes-list-map-keys", "must be empty to be structural"),
    ("x-kubernetes-validations", "must be empty to be structural"),
)


def _nested(v: Schema | None, skip_any_of: bool, path: str) -> list[Cause]:
    """`validateNestedValueValidation`: inside a junctor only value validations may appear."""
    if v is None:
        return []
    errors = _value_validation(v, skip_any_of, False, path)
    errors += _nested(_dict(v.get("items")), False, child(path, "items"))
    for name, prop in properties(v).items():
        errors += _nested(prop, False, key(child(path, "properties"), name))
    for name, detail in _NESTED_FORBIDDEN[:1]:
        if v.get(name):
            errors.append(fe.forbidden(child(path, name), detail))
    extra = v.get("additionalProperties")
    if isinstance(extra, dict) or extra is True:
        errors.append(fe.forbidden(child(path, "additionalProperties"), "must be undefined to be structural"))
    if v.get("default") is not None:
        errors.append(fe.forbidden(child(path, "default"), "must be undefined to be structural"))
    for name, detail in _NESTED_FORBIDDEN[1:]:
        if v.get(name):
            errors.append(fe.forbidden(child(path, name), detail))
    for name in ("x-kubernetes-list-type", "x-kubernetes-map-type"):
        if v.get(name) is not None:
            errors.append(fe.forbidden(child(path, name), "must be undefined to be structural"))
    if "metadata" in properties(v):
        errors.append(
            fe.forbidden(key(child(path, "properties"), "metadata"), "must not be specified in a nested context")
        )
    return errors


def _completeness(v: Schema, s: Schema | None, s_path: str, v_path: str) -> list[Cause]:
    """`validateValueValidationCompleteness`: junctor clauses against the structural part `s`."""
    if s is None:
        return [fe.required(s_path, f"because it is defined in {v_path}")]
    errors: list[Cause] = []
    clauses = [(v.get("not"), child(v_path, "not"))]
    for junctor in _JUNCTORS:
        clauses += [(c, index(child(v_path, junctor), i)) for i, c in enumerate(v.get(junctor) or [])]
    for clause, clause_path in clauses:
        if isinstance(clause, dict):
            errors += _nested_completeness(clause, s, s_path, clause_path)
    return errors


def _nested_completeness(v: Schema, s: Schema | None, s_path: str, v_path: str) -> list[Cause]:
    if s is None:
        return [fe.required(s_path, f"because it is defined in {v_path}")]
    errors = _completeness(v, s, s_path, v_path)
    items = _dict(v.get("items"))
    if items is not None:
        errors += _nested_completeness(items, _dict(s.get("items")), child(s_path, "items"), child(v_path, "items"))
    structural = properties(s)
    for name, prop in properties(v).items():
        s_prop, v_prop = key(child(s_path, "properties"), name), key(child(v_path, "properties"), name)
        if name not in structural:
            errors.append(fe.required(s_prop, f"because it is defined in {v_prop}"))
        else:
            errors += _nested_completeness(prop, structural[name], s_prop, v_prop)
    return errors


# RE2 (Go's regexp) rejects Perl constructs Python accepts; these are its messages for them.
_PERL_ONLY = re.compile(r"\(\?(?:<[=!]|[=!>])")
_BACKREFERENCE = re.compile(r"\\[1-9]")
_PYTHON_TO_GO = (
    ("nothing to repeat", "missing argument to repetition operator"),
    ("multiple repeat", "invalid nested repetition operator"),
    ("missing ), unterminated subpattern", "missing closing )"),
    ("unbalanced parenthesis", "unexpected )"),
    ("unterminated character set", "missing closing ]"),
    ("bad escape", "invalid escape sequence"),
)


def go_regexp_error(pattern: str) -> str | None:
    """The error Go's `regexp.Compile` gives, or None; Go's wording where known, else Python's."""
    if match := _PERL_ONLY.search(pattern):
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{match.group(0)}`"
    if match := _BACKREFERENCE.search(pattern):
        return f"error parsing regexp: invalid escape sequence: `{match.group(0)}`"
    try:
        re.compile(pattern.replace(r"\z", r"\Z"))  # RE2's end of text is \z; Python spells it \Z
    except re.error as error:
        message = str(error.msg)
        at = pattern[error.pos :] if error.pos is not None else pattern
        for python, go in _PYTHON_TO_GO:
            if message.startswith(python):
                shown = {"missing closing )": pattern, "unexpected )": pattern, "missing closing ]": at}.get(go, at[:1])
                shown = at[:2] if go.startswith("invalid escape") else shown
                return f"error parsing regexp: {go}: `{shown}`"
        return f"error parsing regexp: {message}: `{pattern}`"
    return None
