"""The clusterrole-aggregation controller of kube-controller-manager
(`pkg/controller/clusterroleaggregation`): a ClusterRole with an `aggregationRule` gets as rules the
rules of every other ClusterRole its `clusterRoleSelectors` match, by role name order, each rule
once. Run after every ClusterRole write until nothing changes (aggregated roles may feed others,
as `edit` feeds `admin`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from atomesh.devstack.kube.rbac import CLUSTER_ROLES
from atomesh.devstack.kube.store import Store

Obj = dict[str, Any]
MAX_ROUNDS = 10


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: every matchLabels pair and every matchExpression must hold; an empty
    selector matches everything (as `LabelSelectorAsSelector` makes it)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator")
        values = set(expression.get("values") or [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def aggregated_rules(role: Obj, roles: list[Obj]) -> list[Obj]:
    selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
    rules: list[Obj] = []
    for other in sorted(roles, key=lambda r: str(r["metadata"]["name"])):
        if other["metadata"]["name"] == role["metadata"]["name"]:
            continue
        labels = other["metadata"].get("labels") or {}
        if any(selector_matches(s, labels) for s in selectors):
            for rule in other.get("rules") or []:
                if rule not in rules:
                    rules.append(rule)
    return rules


def aggregate(store: Store, write: Callable[[Obj, list[Obj]], None]) -> int:
    """Bring every aggregated ClusterRole up to date through `write(role, rules)`; the writes made."""
    writes = 0
    for _ in range(MAX_ROUNDS):
        roles = [s.obj for s in store.iter(CLUSTER_ROLES, None)]
        changed = False
        for role in roles:
            if not role.get("aggregationRule"):
                continue
            rules = aggregated_rules(role, roles)
            if rules != (role.get("rules") or []):
                write(role, rules)
                writes += 1
                changed = True
        if not changed:
            break
    return writes
