"""The authorizer chain of kube-apiserver with `--authorization-mode=RBAC`: the `system:masters`
group is allowed everything, then the RBAC authorizer visits the rules of every binding that names
the user (`plugin/pkg/auth/authorizer/rbac`, `pkg/registry/rbac/validation/rule.go`), and a denial
is answered with the API server's own 403 `Status` (`responsewriters.Forbidden` + `NewForbidden`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atomesh.devstack.kube.bootstrap import node_rules
from atomesh.devstack.kube.errors import ApiError, cause, invalid
from atomesh.devstack.kube.nodeauth import NodeAuthorizer
from atomesh.devstack.kube.rbac_eval import Attributes, Rule, UserInfo, go_quote, rule_allows
from atomesh.devstack.kube.store import Store

Obj = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"
ROLES = (RBAC_GROUP, "roles")
CLUSTER_ROLES = (RBAC_GROUP, "clusterroles")
ROLE_BINDINGS = (RBAC_GROUP, "rolebindings")
CLUSTER_ROLE_BINDINGS = (RBAC_GROUP, "clusterrolebindings")
SYSTEM_MASTERS = "system:masters"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


def check_name(kind: str, group: str, name: str) -> None:
    """`path.IsValidPathSegmentName`, which RBAC objects' names are validated with."""
    problem = f"may not be '{name}'" if name in (".", "..") else ""
    for bad in ("/", "%"):
        if bad in name:
            problem = f"may not contain '{bad}'"
    if problem:
        raise invalid(kind, group, name, [cause("metadata.name", f'Invalid value: "{name}": {problem}')])


def describe_subject(subject: Obj, binding_namespace: str) -> str:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return f"{kind} {go_quote(name + '/' + (subject.get('namespace') or binding_namespace))}"
    return f"{kind} {go_quote(name)}"


def applies_to(user: UserInfo, subject: Obj, binding_namespace: str) -> bool:
    """kube's `appliesToUser`: a User by name, a Group by membership, a ServiceAccount by its username
    (its namespace defaulting to the binding's)."""
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "User":
        return user.name == name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = str(subject.get("namespace") or binding_namespace)
        return bool(namespace) and user.name == f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"
    return False


class RuleResolver:
    """Rules granted to a user, read from the store on each call (no informer lag to emulate)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def role_reference_rules(self, role_ref: Obj, namespace: str) -> list[Rule] | None:
        """The rules of a binding's roleRef; None when the role does not exist."""
        kind, name = role_ref.get("kind"), str(role_ref.get("name", ""))
        if kind == "ClusterRole":
            stored = self.store.get(CLUSTER_ROLES, "", name)
        elif kind == "Role" and namespace:
            stored = self.store.get(ROLES, namespace, name)
        else:
            return None
        return None if stored is None else list(stored.obj.get("rules") or [])

    def visit(self, user: UserInfo, namespace: str) -> Iterator[tuple[str, Rule]]:
        """(source, rule) for every rule that applies to `user` in `namespace` ("" = cluster scope):
        ClusterRoleBindings first, then the namespace's RoleBindings, as `VisitRulesFor` orders them."""
        for stored in self.store.iter(CLUSTER_ROLE_BINDINGS, None):
            binding = stored.obj
            ref = binding.get("roleRef") or {}
            for subject in binding.get("subjects") or []:
                if applies_to(user, subject, ""):
                    source = (
                        f"ClusterRoleBinding {go_quote(binding['metadata']['name'])} of ClusterRole "
                        f"{go_quote(str(ref.get('name', '')))} to {describe_subject(subject, '')}"
                    )
                    for rule in self.role_reference_rules(ref, "") or []:
                        yield source, rule
                    break
        if not namespace:
            return
        for stored in self.store.iter(ROLE_BINDINGS, namespace):
            binding = stored.obj
            meta = binding["metadata"]
            for subject in binding.get("subjects") or []:
                if applies_to(user, subject, namespace):
                    ref = binding.get("roleRef") or {}
                    source = (
                        f"RoleBinding {go_quote(meta['name'] + '/' + namespace)} of {ref.get('kind')} "
                        f"{go_quote(str(ref.get('name', '')))} to {describe_subject(subject, namespace)}"
                    )
                    for rule in self.role_reference_rules(ref, namespace) or []:
                        yield source, rule
                    break

    def rules_for(self, user: UserInfo, namespace: str) -> list[Rule]:
        return [rule for _, rule in self.visit(user, namespace)]


class Authorizer:
    """system:masters, then the Node authorizer, then RBAC (`--authorization-mode=Node,RBAC`); RBAC's
    "no opinion" is a denial, with the Node authorizer's reason when it had one."""

    def __init__(self, store: Store) -> None:
        self.resolver = RuleResolver(store)
        self.nodes = NodeAuthorizer(store, node_rules())

    def authorize(self, attributes: Attributes) -> Decision:
        if SYSTEM_MASTERS in attributes.user.groups:
            return Decision(True)
        node = self.nodes.authorize(attributes)
        if node is not None and node[0]:
            return Decision(True, "Node: allowed")
        for source, rule in self.resolver.visit(attributes.user, attributes.namespace):
            if rule_allows(attributes, rule):
                return Decision(True, f"RBAC: allowed by {source}")
        return Decision(False, node[1] if node is not None else "")


def forbidden_message(attributes: Attributes) -> str:
    """`responsewriters.forbiddenMessage`."""
    user = go_quote(attributes.user.name)
    if not attributes.resource_request:
        return f"User {user} cannot {attributes.verb} path {go_quote(attributes.path)}"
    resource = attributes.resource
    if attributes.subresource:
        resource += "/" + attributes.subresource
    where = f"in the namespace {go_quote(attributes.namespace)}" if attributes.namespace else "at the cluster scope"
    return (
        f"User {user} cannot {attributes.verb} resource {go_quote(resource)} in API group "
        f"{go_quote(attributes.api_group)} {where}"
    )


def forbidden(group: str, resource: str, name: str, message: str) -> ApiError:
    """`apierrors.NewForbidden(GroupResource, name, err)`."""
    qualified = f"{resource}.{group}" if group else resource
    if not resource:
        text = f"forbidden: {message}"
    elif name:
        text = f"{qualified} {go_quote(name)} is forbidden: {message}"
    else:
        text = f"{qualified} is forbidden: {message}"
    return ApiError(403, text, "Forbidden", name=name or None, group=group or None, kind=resource or None)


def deny(attributes: Attributes, reason: str = "") -> ApiError:
    """The 403 of the authorization filter for a denied request."""
    message = forbidden_message(attributes)
    if reason:
        message = f"{message}: {reason}"
    return forbidden(attributes.api_group, attributes.resource, attributes.name, message)
