"""RBAC rule evaluation, as kube-apiserver's RBAC authorizer does it (pure: no store, no I/O).

Mirrors `pkg/apis/rbac/v1/evaluation_helpers.go` (VerbMatches, APIGroupMatches, ResourceMatches
with `*` and `*/subresource`, ResourceNameMatches, NonResourceURLMatches), `RuleAllows` of
`plugin/pkg/auth/authorizer/rbac/rbac.go`, and the escalation check's `Covers`/`CompactString`
of `pkg/registry/rbac/validation`.

Invariants: a rule only ever allows (RBAC has no deny); an empty `resourceNames` matches every
name; a rule with `resourceNames` never covers a request without a name (list, create).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

Rule = dict[str, Any]  # a PolicyRule as JSON: verbs, apiGroups, resources, resourceNames, nonResourceURLs
ALL = "*"


@dataclass(frozen=True)
class UserInfo:
    """Who is asking: kube's `user.Info`."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Attributes:
    """What is asked: kube's `authorizer.Attributes`, resolved from the request (see `requestinfo`)."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    namespace: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def _strings(rule: Rule, key: str) -> list[str]:
    return [str(v) for v in rule.get(key) or ()]


def verb_matches(rule: Rule, verb: str) -> bool:
    return any(v in (ALL, verb) for v in _strings(rule, "verbs"))


def api_group_matches(rule: Rule, group: str) -> bool:
    return any(g in (ALL, group) for g in _strings(rule, "apiGroups"))


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for resource in _strings(rule, "resources"):
        if resource in (ALL, combined):
            return True
        if subresource and resource == "*/" + subresource:
            return True
    return False


def resource_name_matches(rule: Rule, name: str) -> bool:
    names = _strings(rule, "resourceNames")
    return not names or name in names


def non_resource_url_matches(rule: Rule, url: str) -> bool:
    for pattern in _strings(rule, "nonResourceURLs"):
        if pattern in (ALL, url):
            return True
        if pattern.endswith("*") and url.startswith(pattern.rstrip("*")):
            return True
    return False


def rule_allows(attributes: Attributes, rule: Rule) -> bool:
    if attributes.resource_request:
        combined = attributes.resource
        if attributes.subresource:
            combined += "/" + attributes.subresource
        return (
            verb_matches(rule, attributes.verb)
            and api_group_matches(rule, attributes.api_group)
            and resource_matches(rule, combined, attributes.subresource)
            and resource_name_matches(rule, attributes.name)
        )
    return verb_matches(rule, attributes.verb) and non_resource_url_matches(rule, attributes.path)


# -- the escalation check: does what a user holds cover what they grant? ------------------------


def breakdown(rule: Rule) -> list[Rule]:
    """One rule per (group, resource, verb[, name]) or (url, verb): kube's `BreakdownRule`."""
    atoms: list[Rule] = []
    for group in _strings(rule, "apiGroups"):
        for resource in _strings(rule, "resources"):
            for verb in _strings(rule, "verbs"):
                names = _strings(rule, "resourceNames")
                if names:
                    atoms.extend(
                        {"apiGroups": [group], "resources": [resource], "verbs": [verb], "resourceNames": [n]}
                        for n in names
                    )
                else:
                    atoms.append({"apiGroups": [group], "resources": [resource], "verbs": [verb]})
    for url in _strings(rule, "nonResourceURLs"):
        for verb in _strings(rule, "verbs"):
            atoms.append({"nonResourceURLs": [url], "verbs": [verb]})
    return atoms


def _has(values: Sequence[str], value: str) -> bool:
    return value in values


def _resources_cover(owner: Sequence[str], servant: Sequence[str]) -> bool:
    if ALL in owner:
        return True
    for resource in servant:
        if resource in owner:
            continue
        sub = resource.partition("/")[2]
        if sub and "*/" + sub in owner:
            continue
        return False
    return True


def _urls_cover(owner: Sequence[str], servant: Sequence[str]) -> bool:
    for url in servant:
        if not any(o in (url, ALL) or (o.endswith("*") and url.startswith(o.rstrip("*"))) for o in owner):
            return False
    return True


def rule_covers(owner: Rule, servant: Rule) -> bool:
    """kube's `ruleCovers`: every verb, group, resource, name and URL of `servant` is in `owner`."""
    verbs, groups = _strings(owner, "verbs"), _strings(owner, "apiGroups")
    if not (ALL in verbs or all(_has(verbs, v) for v in _strings(servant, "verbs"))):
        return False
    if not (ALL in groups or all(_has(groups, g) for g in _strings(servant, "apiGroups"))):
        return False
    if not _resources_cover(_strings(owner, "resources"), _strings(servant, "resources")):
        return False
    if not _urls_cover(_strings(owner, "nonResourceURLs"), _strings(servant, "nonResourceURLs")):
        return False
    owner_names = _strings(owner, "resourceNames")
    servant_names = _strings(servant, "resourceNames")
    if owner_names:
        return bool(servant_names) and all(n in owner_names for n in servant_names)
    return True


def missing_rules(owner_rules: Iterable[Rule], rules: Iterable[Rule]) -> list[Rule]:
    """The atoms of `rules` no rule of `owner_rules` covers (empty: the owner covers them all)."""
    owners = list(owner_rules)
    return [atom for rule in rules for atom in breakdown(rule) if not any(rule_covers(o, atom) for o in owners)]


def compact_rules(rules: Iterable[Rule]) -> list[Rule]:
    """Atoms with one group and one resource (and no names) merged into one rule per group/resource,
    verbs in order: kube's `CompactRules`."""
    merged: dict[tuple[str, str], Rule] = {}
    result: list[Rule] = []
    for rule in rules:
        groups, resources = _strings(rule, "apiGroups"), _strings(rule, "resources")
        if (
            len(groups) == 1
            and len(resources) == 1
            and not rule.get("resourceNames")
            and not rule.get("nonResourceURLs")
        ):
            key = (groups[0], resources[0])
            if key in merged:
                merged[key]["verbs"].extend(v for v in _strings(rule, "verbs") if v not in merged[key]["verbs"])
                continue
            merged[key] = {"apiGroups": groups, "resources": resources, "verbs": _strings(rule, "verbs")}
            result.append(merged[key])
        else:
            result.append(rule)
    return result


def go_quote_list(values: Sequence[str]) -> str:
    """Go's `%q` of a []string: `["a" "b"]`."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def compact_string(rule: Rule) -> str:
    """kube's `CompactString`: `{APIGroups:["g"], Resources:["r"], Verbs:["get"]}`."""
    parts = []
    for label, key in (
        ("APIGroups", "apiGroups"),
        ("Resources", "resources"),
        ("NonResourceURLs", "nonResourceURLs"),
        ("ResourceNames", "resourceNames"),
        ("Verbs", "verbs"),
    ):
        values = _strings(rule, key)
        if values:
            parts.append(f"{label}:{go_quote_list(values)}")
    return "{" + ", ".join(parts) + "}"
