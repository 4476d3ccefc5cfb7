"""Field errors as apimachinery writes them, so emulated validation reads like kube-apiserver's.

A port of `k8s.io/apimachinery/pkg/util/validation/field` (`path.go`, `errors.go`): a path is
built with `child` (`.name`), `key` (`[key]`) and `index` (`[0]`); an error renders as
`<path>: <Type>[: <value>][: <detail>]`, the value as Go prints it (strings quoted, numbers and
booleans bare, anything else as JSON). Each error becomes a `cause` of a 422 Invalid `Status`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from atomesh.devstack.kube.errors import cause

Cause = dict[str, str]


def child(path: str, *names: str) -> str:
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def key(path: str, name: str) -> str:
    return f"{path}[{name}]"


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def show(value: Any) -> str:
    """A bad value as `field.Error.ErrorBody` prints it: `%q` strings, `%v` scalars, JSON otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _with(body: str, detail: str) -> str:
    return f"{body}: {detail}" if detail else body


def required(path: str, detail: str = "") -> Cause:
    return cause(path, _with("Required value", detail), "FieldValueRequired")


def forbidden(path: str, detail: str) -> Cause:
    return cause(path, _with("Forbidden", detail), "FieldValueForbidden")


def invalid(path: str, value: Any, detail: str) -> Cause:
    return cause(path, _with(f"Invalid value: {show(value)}", detail), "FieldValueInvalid")


def duplicate(path: str, value: Any) -> Cause:
    return cause(path, f"Duplicate value: {show(value)}", "FieldValueDuplicate")


def not_supported(path: str, value: Any, supported: list[str]) -> Cause:
    detail = "supported values: " + ", ".join(json.dumps(v) for v in supported) if supported else ""
    return cause(path, _with(f"Unsupported value: {show(value)}", detail), "FieldValueNotSupported")


def too_many(path: str, actual: int, maximum: int) -> Cause:
    detail = f"must have at most {maximum} {'item' if maximum == 1 else 'items'}"
    return cause(path, f"Too many: {actual}: {detail}", "FieldValueTooMany")


def immutable(path: str, value: Any) -> Cause:
    """`apimachinery/pkg/api/validation.ValidateImmutableField`."""
    return invalid(path, value, "field is immutable")


def text(c: Cause) -> str:
    """The whole error as Go's `Error()` prints it; kube sorts structural errors by this."""
    return f"{c['field']}: {c['message']}"


# Name checks of `k8s.io/apimachinery/pkg/util/validation` (validation.go), with their messages.
DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + "(\\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"


def _regex_error(message: str, pattern: str, *examples: str) -> str:
    shown = " or ".join(f"'{e}'" for e in examples)
    return f"{message} (e.g. {shown}, regex used for validation is '{pattern}')"


def dns1123_subdomain(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not re.fullmatch(DNS1123_SUBDOMAIN, value):
        errors.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character",
                DNS1123_SUBDOMAIN,
                "example.com",
            )
        )
    return errors


def dns1035_label(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not re.fullmatch(DNS1035_LABEL, value):
        errors.append(
            _regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                "alphabetic character, and end with an alphanumeric character",
                DNS1035_LABEL,
                "my-name",
                "abc-123",
            )
        )
    return errors
