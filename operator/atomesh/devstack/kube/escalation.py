"""Privilege-escalation prevention on RBAC writes, as kube-apiserver's RBAC storage does it
(`pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased`).

A user may create or update a Role/ClusterRole only with rules they already hold in that scope,
unless they may `escalate` that role; a binding only to a role whose rules they hold, unless they
may `bind` it. Members of `system:masters` skip both; an aggregationRule needs cluster-admin's
full authority. Writes made by the server itself (no requesting user) are not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.rbac import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    RBAC_GROUP,
    ROLE_BINDINGS,
    ROLES,
    SYSTEM_MASTERS,
    Decision,
    RuleResolver,
    forbidden,
)
from atomesh.devstack.kube.rbac_eval import (
    Attributes,
    UserInfo,
    compact_rules,
    compact_string,
    go_quote,
    go_quote_list,
    missing_rules,
)

Obj = dict[str, Any]
FULL_AUTHORITY = [
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
    {"verbs": ["*"], "nonResourceURLs": ["*"]},
]


def _authorized(
    authorize: Callable[[Attributes], Decision], user: UserInfo, verb: str, resource: str, name: str, namespace: str
) -> bool:
    attributes = Attributes(
        user=user,
        verb=verb,
        resource_request=True,
        namespace=namespace,
        api_group=RBAC_GROUP,
        api_version="v1",
        resource=resource,
        name=name,
    )
    return authorize(attributes).allowed


def no_escalation_error(resolver: RuleResolver, user: UserInfo, namespace: str, rules: list[Obj]) -> str | None:
    """`ConfirmNoEscalation`'s message when `user` lacks some of `rules` in `namespace`, else None."""
    missing = missing_rules(resolver.rules_for(user, namespace), rules)
    if not missing:
        return None
    descriptions = sorted({compact_string(rule) for rule in compact_rules(missing)})
    return (
        f"user {go_quote(user.name)} (groups={go_quote_list(user.groups)}) is attempting to grant RBAC "
        "permissions not currently held:\n" + "\n".join(descriptions)
    )


def check(
    resolver: RuleResolver,
    authorize: Callable[[Attributes], Decision],
    user: UserInfo | None,
    gr: tuple[str, str],
    obj: Obj,
) -> None:
    """Raise the API server's 403 when `user` may not write `obj` (a role or binding)."""
    if (
        user is None
        or SYSTEM_MASTERS in user.groups
        or gr not in (ROLES, CLUSTER_ROLES, ROLE_BINDINGS, CLUSTER_ROLE_BINDINGS)
    ):
        return
    meta = obj.get("metadata") or {}
    name, namespace = str(meta.get("name", "")), str(meta.get("namespace", "") if gr[1].startswith("role") else "")
    if gr in (ROLES, CLUSTER_ROLES):
        if gr == CLUSTER_ROLES and obj.get("aggregationRule"):
            if no_escalation_error(resolver, user, "", FULL_AUTHORITY) is not None:
                raise forbidden(
                    RBAC_GROUP, gr[1], name, "must have cluster-admin privileges to use the aggregationRule"
                )
            return
        if _authorized(authorize, user, "escalate", gr[1], name, namespace):
            return
        error = no_escalation_error(resolver, user, namespace, list(obj.get("rules") or []))
    else:
        ref = obj.get("roleRef") or {}
        role_resource = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
        if _authorized(authorize, user, "bind", role_resource, str(ref.get("name", "")), namespace):
            return
        rules = resolver.role_reference_rules(ref, namespace)
        if rules is None:
            raise ApiError(
                404,
                f"{role_resource}.{RBAC_GROUP} {go_quote(str(ref.get('name', '')))} not found",
                name=str(ref.get("name", "")),
                group=RBAC_GROUP,
                kind=role_resource,
            )
        error = no_escalation_error(resolver, user, namespace, rules)
    if error is not None:
        raise forbidden(RBAC_GROUP, gr[1], name, error)
