"""The RBAC objects kube-apiserver creates at start-up (`plugin/pkg/auth/authorizer/rbac/
bootstrappolicy/policy.go`), for the kinds this emulator serves: cluster-admin, the aggregated
admin/edit/view with their `system:aggregate-to-*` parts, discovery, basic-user, public-info-viewer
and the node role, with their bindings. Each carries `kubernetes.io/bootstrapping: rbac-defaults`.

Nodes are authorised by the Node authorizer (`nodeauth`), whose static rules are the `system:node`
ClusterRole's: its ClusterRoleBinding has no subjects, as in clusters since 1.8.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
RBAC_V1 = "rbac.authorization.k8s.io/v1"
BOOTSTRAP_LABEL = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"
AUTOUPDATE = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def url_rule(urls: list[str], verbs: list[str]) -> Obj:
    return {"nonResourceURLs": urls, "verbs": verbs}


def cluster_role(
    name: str, rules: list[Obj], labels: dict[str, str] | None = None, aggregate_from: str | None = None
) -> Obj:
    role: Obj = {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {**BOOTSTRAP_LABEL, **(labels or {})}, "annotations": AUTOUPDATE},
        "rules": rules,
    }
    if aggregate_from is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {AGGREGATE + aggregate_from: "true"}}]}
        role["rules"] = []
    return role


def cluster_role_binding(name: str, role: str, groups: list[str], users: tuple[str, ...] = ()) -> Obj:
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]
    subjects += [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in users]
    return {
        "apiVersion": RBAC_V1,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "labels": dict(BOOTSTRAP_LABEL), "annotations": AUTOUPDATE},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    }


def _aggregate_labels(*roles: str) -> dict[str, str]:
    return {AGGREGATE + r: "true" for r in roles}


def cluster_roles() -> list[Obj]:
    return [
        cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]),
        cluster_role(
            "system:discovery",
            [
                url_rule(
                    ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/version", "/version/"], ["get"]
                )
            ],
        ),
        cluster_role(
            "system:public-info-viewer",
            [url_rule(["/healthz", "/livez", "/readyz", "/version", "/version/"], ["get"])],
        ),
        cluster_role(
            "system:basic-user",
            [
                rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
                rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
            ],
        ),
        cluster_role("admin", [], aggregate_from="admin"),
        cluster_role("edit", [], _aggregate_labels("admin"), aggregate_from="edit"),
        cluster_role("view", [], _aggregate_labels("admin", "edit"), aggregate_from="view"),
        cluster_role(
            "system:aggregate-to-admin",
            [
                rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
                rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], [*WRITE, *READ]),
            ],
            _aggregate_labels("admin"),
        ),
        cluster_role(
            "system:aggregate-to-edit",
            [
                rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets"], READ),
                rule([""], ["serviceaccounts"], ["impersonate"]),
                rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
                rule([""], ["pods/eviction"], ["create"]),
                rule([""], ["configmaps", "events", "secrets", "serviceaccounts", "services"], WRITE),
                rule([""], ["serviceaccounts/token"], ["create"]),
                rule(["apps"], ["deployments", "deployments/scale"], WRITE),
                rule(["batch"], ["cronjobs", "jobs"], WRITE),
            ],
            _aggregate_labels("admin", "edit"),
        ),
        cluster_role(
            "system:aggregate-to-view",
            [
                rule([""], ["configmaps", "pods", "serviceaccounts", "services"], READ),
                rule([""], ["events", "namespaces/status", "pods/log", "pods/status"], READ),
                rule([""], ["namespaces"], READ),
                rule(["apps"], ["deployments", "deployments/scale", "deployments/status"], READ),
                rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
            ],
            _aggregate_labels("admin", "edit", "view"),
        ),
        cluster_role(
            "system:kube-scheduler",
            [
                rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
                rule(["coordination.k8s.io"], ["leases"], ["create"]),
                rule(["coordination.k8s.io"], ["leases"], ["get", "update"]) | {"resourceNames": ["kube-scheduler"]},
                rule([""], ["nodes"], READ),
                rule([""], ["pods"], ["delete", "get", "list", "watch"]),
                rule([""], ["bindings", "pods/binding"], ["create"]),
                rule([""], ["pods/status"], ["patch", "update"]),
                rule([""], ["namespaces"], READ),
            ],
        ),
        cluster_role(
            "system:node",
            [
                rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
                rule(["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"], ["create"]),
                rule([""], ["services"], ["get", "list", "watch"]),
                rule([""], ["nodes"], ["create", "get", "list", "watch", "patch", "update"]),
                rule([""], ["nodes/status"], ["patch", "update"]),
                rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
                rule([""], ["pods"], ["get", "list", "watch", "create", "delete"]),
                rule([""], ["pods/status"], ["patch", "update"]),
                rule([""], ["pods/eviction"], ["create"]),
                rule([""], ["configmaps", "secrets"], ["get", "list", "watch"]),
                rule([""], ["persistentvolumeclaims", "persistentvolumes"], ["get"]),
                rule([""], ["serviceaccounts/token"], ["create"]),
                rule(["coordination.k8s.io"], ["leases"], ["create", "delete", "get", "patch", "update"]),
            ],
        ),
    ]


def cluster_role_bindings() -> list[Obj]:
    return [
        cluster_role_binding("cluster-admin", "cluster-admin", ["system:masters"]),
        cluster_role_binding("system:discovery", "system:discovery", ["system:authenticated"]),
        cluster_role_binding("system:basic-user", "system:basic-user", ["system:authenticated"]),
        cluster_role_binding(
            "system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]
        ),
        cluster_role_binding("system:node", "system:node", []),
        cluster_role_binding("system:kube-scheduler", "system:kube-scheduler", [], ("system:kube-scheduler",)),
    ]


def node_rules() -> list[Obj]:
    """The Node authorizer's static rules (kube's `NodeRules()`): the `system:node` ClusterRole's."""
    role = next(role for role in cluster_roles() if role["metadata"]["name"] == "system:node")
    rules: list[Obj] = role["rules"]
    return rules
