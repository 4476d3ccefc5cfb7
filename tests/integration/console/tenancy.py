"""Two teams on one API server with authentication and RBAC: the supervision scenario seeded in both
`team-a` and `team-b` (the same names in each, so only the namespace tells them apart), and people bound
to the chart's roles for people in `team-a` only, each with a kubeconfig of their own (a client
certificate, CN = user and O = groups, as kubeadm's users have)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from tests.fixtures.kube import SecuredKubeAPI, secured_kube_api
from tests.integration.console.seed import ensure_namespace, seed
from tests.unit.core.supervision_builders import scenario

from atomesh.devstack.identity import OPERATOR_NAMESPACE, chart_rbac

TEAM_A, TEAM_B = "team-a", "team-b"
RBAC = "rbac.authorization.k8s.io"
# user -> (groups, the kubeconfig context's namespace)
USERS = {
    "victor": (("team-a-viewers",), TEAM_A),  # views team A
    "alice": (("team-a-editors",), TEAM_A),  # edits team A
    "nora": (("auditors",), "default"),  # views team A and may list Namespaces, from another context
}
BINDINGS = [  # namespace, ClusterRole, group
    (TEAM_A, "atomesh-view", "team-a-viewers"),
    (TEAM_A, "atomesh-edit", "team-a-editors"),
    (TEAM_A, "atomesh-view", "auditors"),
]
NAMESPACE_READER = {
    "apiVersion": f"{RBAC}/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "namespace-reader"},
    "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "watch"]}],
}


def binding(namespace: str, role: str, group: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{role}-{group}", "namespace": namespace},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC, "kind": "Group", "name": group}],
    }


def cluster_binding(role: str, group: str) -> dict[str, Any]:
    body = binding("", role, group)
    body["kind"] = "ClusterRoleBinding"
    body["metadata"] = {"name": f"{role}-{group}"}
    return body


def in_namespace(objects: list[BaseModel], namespace: str) -> list[BaseModel]:
    moved = []
    for obj in objects:
        copy = obj.model_copy(deep=True)
        copy.metadata.namespace = namespace  # type: ignore[attr-defined]
        moved.append(copy)
    return moved


@dataclass
class Tenancy:
    api: SecuredKubeAPI

    def kubeconfig(self, user: str) -> Path:
        """`user`'s kubeconfig, its context set to their namespace (`kubectl config set-context --namespace`)."""
        groups, namespace = USERS[user]
        path = self.api.kubeconfig_for(user, *groups)
        config = yaml.safe_load(path.read_text())
        config["contexts"][0]["context"]["namespace"] = namespace
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def run(self, namespace: str, name: str) -> dict[str, Any]:
        """A run as the cluster's admin reads it."""
        found: dict[str, Any] = self.api.request(
            "GET", f"/apis/atomesh.io/v1alpha1/namespaces/{namespace}/agentruns/{name}"
        )
        return found


@contextmanager
def two_teams(directory: Path) -> Iterator[Tenancy]:
    with secured_kube_api(directory) as api:
        api.apply_crds()
        ensure_namespace(api, OPERATOR_NAMESPACE)
        for obj in [*chart_rbac(), NAMESPACE_READER, cluster_binding("namespace-reader", "auditors")]:
            api.apply(obj)
        agents, meshes, runs = scenario(datetime.now(UTC))
        for namespace in (TEAM_A, TEAM_B):
            ensure_namespace(api, namespace)
            seed(api, in_namespace([*agents, *meshes, *runs], namespace))
        for namespace, role, group in BINDINGS:
            api.apply(binding(namespace, role, group))
        yield Tenancy(api)
