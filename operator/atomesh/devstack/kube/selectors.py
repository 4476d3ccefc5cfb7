"""Label and field selectors, parsed once per request into a predicate over stored objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from atomesh.devstack.kube.errors import bad_request

Obj = dict[str, Any]
Predicate = Callable[[Obj], bool]
_KEY = re.compile(r"^([a-z0-9A-Z][-a-z0-9A-Z_.]*/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$")


def _split_terms(text: str) -> list[str]:
    """Split on commas outside parentheses: `a in (x,y),b` -> ["a in (x,y)", "b"]."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    terms.append("".join(current).strip())
    return [t for t in terms if t]


def _check_key(key: str, selector: str) -> str:
    if not _KEY.match(key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in selector "{selector}"')
    return key


_SET_TERM = re.compile(r"^(\S+)\s+(in|notin)\s*\((.*)\)$")
_EQ_TERM = re.compile(r"^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$")


def _label_check(op: str, key: str, values: frozenset[str], labels: Mapping[str, str]) -> bool:
    if op == "in":
        return labels.get(key) in values
    if op == "notin":
        return labels.get(key) not in values
    if op == "!=":
        return labels.get(key) not in values
    if op == "=":
        return labels.get(key) in values
    if op == "!":
        return key not in labels
    return key in labels


def parse_label_selector(text: str | None) -> Predicate | None:
    """kubectl/client syntax: `=`, `==`, `!=`, `in (...)`, `notin (...)`, `key`, `!key`; commas AND."""
    if not text:
        return None
    checks: list[tuple[str, str, frozenset[str]]] = []
    for term in _split_terms(text):
        m = _SET_TERM.match(term)
        if m:
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            checks.append((m.group(2), _check_key(m.group(1), text), values))
            continue
        m = _EQ_TERM.match(term)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            checks.append((op, _check_key(m.group(1), text), frozenset([m.group(3)])))
        elif term.startswith("!"):
            checks.append(("!", _check_key(term[1:].strip(), text), frozenset()))
        else:
            checks.append(("exists", _check_key(term, text), frozenset()))

    def predicate(obj: Obj) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(_label_check(op, key, values, labels) for op, key, values in checks)

    return predicate


def _name(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def _namespace(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("namespace", ""))


BASE_FIELDS: dict[str, Callable[[Obj], str]] = {"metadata.name": _name, "metadata.namespace": _namespace}


def parse_field_selector(text: str | None, getters: Mapping[str, Callable[[Obj], str]]) -> Predicate | None:
    """`field=value`, `field==value`, `field!=value`, comma-separated; unknown fields are a 400."""
    if not text:
        return None
    checks: list[tuple[Callable[[Obj], str], bool, str]] = []
    fields = {**BASE_FIELDS, **getters}
    for term in _split_terms(text):
        m = _EQ_TERM.match(term)
        if not m:
            raise bad_request(f'invalid selector: "{text}"; can\'t understand "{term}"')
        field, op, value = m.groups()
        getter = fields.get(field)
        if getter is None:
            raise bad_request(f"field label not supported: {field}; supported: {', '.join(sorted(fields))}")
        checks.append((getter, op != "!=", value))

    def predicate(obj: Obj) -> bool:
        return all((get(obj) == value) == equal for get, equal, value in checks)

    return predicate


def combine(*predicates: Predicate | None) -> Predicate:
    active = [p for p in predicates if p is not None]
    if not active:
        return lambda _obj: True
    if len(active) == 1:
        return active[0]
    return lambda obj: all(p(obj) for p in active)
