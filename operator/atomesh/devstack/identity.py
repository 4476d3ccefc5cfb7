"""Who is who on the development stack's API server (the emulator with access control on).

- the developer: a random bearer token per start, in `system:masters` (the kubeconfig `atomesh dev`
  writes), as a kubeadm cluster's admin.conf is;
- the local kubelet: `system:node:NAME` in `system:nodes`;
- the operator: the chart's own ServiceAccount `atomesh-system/atomesh` with the chart's RBAC
  (`chart_rbac.yaml`, rendered from charts/atomesh and checked against it by the tests), through a
  TokenRequest token in a kubeconfig of its own; so a permission the chart lacks fails on the stack
  as it would in a cluster.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import yaml

from atomesh.devstack.kube.authn import StaticToken
from atomesh.devstack.kubelet.apiclient import ApiClient, ApiStatusError

Obj = dict[str, Any]
CHART_RBAC = Path(__file__).with_name("chart_rbac.yaml")
RELEASE = "atomesh"
OPERATOR_NAMESPACE = "atomesh-system"
OPERATOR_SERVICE_ACCOUNT = "atomesh"
DEVELOPER = "atomesh-dev-admin"
TOKEN_SECONDS = 7 * 24 * 3600  # a development stack outlives the default hour


def chart_rbac() -> list[Obj]:
    """The chart's ServiceAccounts, ClusterRoles, Roles and bindings, as rendered."""
    return [doc for doc in yaml.safe_load_all(CHART_RBAC.read_text(encoding="utf-8")) if doc]


def developer_token() -> StaticToken:
    return StaticToken(secrets.token_urlsafe(24), DEVELOPER, DEVELOPER, ("system:masters",))


def node_token(node_name: str) -> StaticToken:
    name = f"system:node:{node_name}"
    return StaticToken(secrets.token_urlsafe(24), name, name, ("system:nodes",))


def _path(obj: Obj) -> str:
    api_version, kind = obj["apiVersion"], obj["kind"]
    plural = {
        "ServiceAccount": "serviceaccounts",
        "Namespace": "namespaces",
        "ClusterRole": "clusterroles",
        "ClusterRoleBinding": "clusterrolebindings",
        "Role": "roles",
        "RoleBinding": "rolebindings",
    }[kind]
    prefix = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    namespace = obj["metadata"].get("namespace")
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"


async def apply(api: ApiClient, obj: Obj) -> None:
    """Create `obj`, or replace the one a kept state holds."""
    collection = _path(obj)
    try:
        await api.request("POST", collection, obj)
    except ApiStatusError as exc:
        if exc.code != 409:
            raise
        existing = await api.request("GET", f"{collection}/{obj['metadata']['name']}")
        version = existing["metadata"]["resourceVersion"]
        body = {**obj, "metadata": {**obj["metadata"], "resourceVersion": version}}
        await api.request("PUT", f"{collection}/{obj['metadata']['name']}", body)


def local_scheduler_binding(node_name: str) -> Obj:
    """The local kubelet places pods on its own Node (POST pods/binding), which is the scheduler's
    right in Kubernetes: bind it `system:kube-scheduler` too."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "atomesh:local-kubelet-scheduler"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:kube-scheduler"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": f"system:node:{node_name}"}],
    }


async def install_operator_identity(api: ApiClient) -> str:
    """Create the operator's namespace, ServiceAccount and RBAC as the chart does; its token."""
    await apply(api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}})
    for obj in chart_rbac():
        await apply(api, obj)
    path = f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{OPERATOR_SERVICE_ACCOUNT}/token"
    answer = await api.request("POST", path, {"spec": {"expirationSeconds": TOKEN_SECONDS}})
    return str(answer["status"]["token"])
