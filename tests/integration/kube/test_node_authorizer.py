"""The Node authorizer and NodeRestriction on the API server emulator, asked by the real kubectl as two
nodes (`system:node:<name>` in `system:nodes`, by impersonation): a node reads only the Secrets and
ConfigMaps of pods bound to it, requests tokens only for their ServiceAccounts, touches only its own
Lease and Node, writes the status of its own pods only, and creates no pod; each refusal is
kube-apiserver's 403 with the node authorizer's or NodeRestriction's reason."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest
from tests.fixtures.kube import Kubectl, SecuredKubeAPI, kubectl_binaries, secured_kube_api

pytestmark = pytest.mark.integration

NS = "team-a"
KUBECTL = kubectl_binaries()[0]


def pod(name: str, node: str, secret: str, configmap: str, account: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "nodeName": node,
            "serviceAccountName": account,
            "volumes": [{"name": "cfg", "configMap": {"name": configmap}}],
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": secret, "key": "t"}}}],
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    with secured_kube_api(tmp_path_factory.mktemp("nodes")) as api:
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        for name in ("one-secret", "two-secret"):
            api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": {"t": "x"}}, NS)
        for name in ("one-config", "two-config"):
            api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "b"}}, NS)
        for name in ("one-sa", "two-sa"):
            api.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}, NS)
        for node in ("node-1", "node-2"):
            api.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
        api.apply(pod("one", "node-1", "one-secret", "one-config", "one-sa"), NS)
        api.apply(pod("two", "node-2", "two-secret", "two-config", "two-sa"), NS)
        yield api


def as_node(api: SecuredKubeAPI, node: str, *args: str, input: str | None = None) -> tuple[int, str]:
    kubectl = Kubectl(KUBECTL[0], KUBECTL[1], api.kubeconfig, api.cache_dir / "nodes")
    result = kubectl("--as", f"system:node:{node}", "--as-group", "system:nodes", *args, check=False, input=input)
    return result.returncode, (result.stdout + result.stderr).strip()


def denied(node: str, verb: str, resource: str, name: str, reason: str, namespace: str = NS) -> str:
    group, _, plural = resource.rpartition(".") if "." in resource else ("", "", resource)
    qualified = f"{plural}.{group}" if group else plural
    return (
        f'Error from server (Forbidden): {qualified} "{name}" is forbidden: User "system:node:{node}" cannot '
        f'{verb} resource "{plural}" in API group "{group}" in the namespace "{namespace}": {reason}'
    )


NO_RELATIONSHIP = "no relationship found between node 'node-1' and this object"
OWN_PODS_ONLY = 'node "node-1" can only update pod status for pods with spec.nodeName set to itself'


def patch_status_as_node(api: SecuredKubeAPI, node: str, pod_name: str, body: dict[str, Any]) -> tuple[int, str]:
    """A merge patch of pods/status as the node (kubectl's patch reads pods/status first, which nodes may not)."""
    headers = {
        "Content-Type": "application/merge-patch+json",
        "Impersonate-User": f"system:node:{node}",
        "Impersonate-Group": "system:nodes",
    }
    path = f"/api/v1/namespaces/{NS}/pods/{pod_name}/status"
    try:
        with api.open(path, "PATCH", json.dumps(body).encode(), **headers) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(json.loads(exc.read())["message"])


def test_a_node_reads_the_secrets_and_configmaps_of_its_own_pods_only(cluster: SecuredKubeAPI) -> None:
    assert as_node(cluster, "node-1", "get", "secret", "one-secret", "-n", NS, "-o", "name") == (
        0,
        "secret/one-secret",
    )
    assert as_node(cluster, "node-1", "get", "configmap", "one-config", "-n", NS, "-o", "name")[0] == 0
    assert as_node(cluster, "node-2", "get", "secret", "two-secret", "-n", NS, "-o", "name")[0] == 0
    assert as_node(cluster, "node-1", "get", "secret", "two-secret", "-n", NS) == (
        1,
        denied("node-1", "get", "secrets", "two-secret", NO_RELATIONSHIP),
    )
    code, out = as_node(cluster, "node-1", "get", "configmap", "two-config", "-n", NS)
    assert (code, out) == (1, denied("node-1", "get", "configmaps", "two-config", NO_RELATIONSHIP))
    code, out = as_node(cluster, "node-1", "get", "secrets", "-n", NS)
    assert code == 1
    assert out.endswith(
        'cannot list resource "secrets" in API group "" in the namespace "team-a": No Object name found'
    )


def test_can_i_agrees_with_the_node_authorizer(cluster: SecuredKubeAPI) -> None:
    assert as_node(cluster, "node-1", "auth", "can-i", "get", "secrets/one-secret", "-n", NS) == (0, "yes")
    assert as_node(cluster, "node-1", "auth", "can-i", "get", "secrets/two-secret", "-n", NS) == (
        1,
        f"no - {NO_RELATIONSHIP}",
    )
    assert as_node(cluster, "node-1", "auth", "can-i", "list", "pods", "-n", NS) == (0, "yes")  # static rules


def test_a_node_requests_tokens_only_for_its_pods_service_accounts(cluster: SecuredKubeAPI) -> None:
    code, token = as_node(cluster, "node-1", "create", "token", "one-sa", "-n", NS)
    assert code == 0
    assert token.count(".") == 2
    assert as_node(cluster, "node-1", "create", "token", "two-sa", "-n", NS) == (
        1,
        'error: failed to create token: serviceaccounts "two-sa" is forbidden: User "system:node:node-1" cannot '
        f'create resource "serviceaccounts/token" in API group "" in the namespace "{NS}": {NO_RELATIONSHIP}',
    )


def test_a_node_touches_only_its_own_lease_and_node(cluster: SecuredKubeAPI) -> None:
    code, out = as_node(cluster, "node-1", "get", "lease", "node-2", "-n", "kube-node-lease")
    assert (code, out) == (
        1,
        denied(
            "node-1",
            "get",
            "coordination.k8s.io.leases",
            "node-2",
            "can only access node lease with the same name as the requesting node",
            "kube-node-lease",
        ),
    )
    code, out = as_node(cluster, "node-1", "get", "lease", "node-1", "-n", "default")
    assert code == 1
    assert out.endswith('can only access leases in the "kube-node-lease" system namespace')
    assert as_node(cluster, "node-1", "label", "node", "node-2", "x=y") == (
        1,
        'Error from server (Forbidden): nodes "node-2" is forbidden: node "node-1" is not allowed to modify node '
        '"node-2"',
    )
    assert as_node(cluster, "node-1", "label", "node", "node-1", "x=y") == (0, "node/node-1 labeled")


def test_node_restriction_keeps_a_node_to_its_own_pods(cluster: SecuredKubeAPI) -> None:
    status = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    assert patch_status_as_node(cluster, "node-1", "two", status) == (
        403,
        f'pods "two" is forbidden: {OWN_PODS_ONLY}',
    )
    assert patch_status_as_node(cluster, "node-1", "one", status)[0] == 200
    assert as_node(cluster, "node-1", "delete", "pod", "two", "-n", NS) == (
        1,
        'Error from server (Forbidden): pods "two" is forbidden: node "node-1" can only delete pods with '
        "spec.nodeName set to itself",
    )
    manifest = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "extra"},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }
    )
    code, out = as_node(cluster, "node-1", "create", "-n", NS, "-f", "-", input=manifest)
    assert code == 1
    assert 'node "node-1" can only create mirror pods' in out
