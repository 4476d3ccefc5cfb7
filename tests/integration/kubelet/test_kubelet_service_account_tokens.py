"""ServiceAccount tokens on the local kubelet, against the API server with authentication and RBAC: a
projected `serviceAccountToken` source holds a token the kubelet requested (as `system:node:<name>`) for
the pod's own ServiceAccount, which authenticates as that account and no other; a pod whose
ServiceAccount does not exist waits with the kubelet's FailedMount message."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from tests.fixtures.kube import SecuredKubeAPI, secured_kube_api
from tests.integration.kubelet.helpers import PodEnv, kubectl_binary, python_container

from atomesh.core.pod import SERVICE_ACCOUNT_TOKEN_MOUNT, service_account_token_volume
from atomesh.devstack.identity import local_scheduler_binding
from atomesh.devstack.kube import set_log_source
from atomesh.devstack.kube.authn import StaticToken
from atomesh.devstack.kubelet import BackgroundKubelet, KubeletConfig
from atomesh.devstack.kubelet.logsource import HttpLogSource

pytestmark = pytest.mark.integration

NODE_NAME = "token-node"
NODE = StaticToken("node-token", f"system:node:{NODE_NAME}", "node", ("system:nodes",))
NAMESPACE = "team-a"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[SecuredKubeAPI, PodEnv]]:
    with secured_kube_api(tmp_path, {NODE.token: NODE}) as api:
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        api.apply(local_scheduler_binding(NODE_NAME))  # the local kubelet places pods on its own Node
        for account in ("builder", "other"):
            api.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}}, NAMESPACE)
        kubelet_config = KubeletConfig(
            server=api.url,
            token=NODE.token,
            tls=api.pki.client_context(),
            node_name=NODE_NAME,
            root_dir=tmp_path / "kubelet",
            namespace=NAMESPACE,
            retry_interval=0.2,
        )
        api_client = config.new_client_from_config(config_file=str(api.kubeconfig))
        try:
            with BackgroundKubelet(kubelet_config) as kubelet:
                set_log_source(api.app, HttpLogSource(kubelet.url))
                yield api, PodEnv(NAMESPACE, client.CoreV1Api(api_client), kubelet, tmp_path, api.kubeconfig)
        finally:
            api_client.close()


PRINT_TOKEN = "import sys; print(open(sys.argv[1]).read())"  # pod paths reach a process through its args


def token_pod(account: str) -> dict[str, Any]:
    volume = service_account_token_volume()
    mount = {"name": volume["name"], "mountPath": SERVICE_ACCOUNT_TOKEN_MOUNT, "readOnly": True}
    return {
        "serviceAccountName": account,
        "automountServiceAccountToken": False,
        "restartPolicy": "Never",
        "volumes": [volume],
        "containers": [
            python_container("main", PRINT_TOKEN, args=[f"{SERVICE_ACCOUNT_TOKEN_MOUNT}/token"], volumeMounts=[mount])
        ],
    }


def whoami(api: SecuredKubeAPI, token: str) -> str:
    result = subprocess.run(
        [kubectl_binary(), "--kubeconfig", str(api.token_kubeconfig("pod", token)), "auth", "whoami", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return str(json.loads(result.stdout)["status"]["userInfo"]["username"])


def test_the_kubelet_mounts_a_token_of_the_pods_own_service_account_only(
    secured: tuple[SecuredKubeAPI, PodEnv],
) -> None:
    api, env = secured
    env.create_pod("uses-builder", token_pod("builder"))
    pod = env.wait_phase("uses-builder", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    token = env.core.read_namespaced_pod_log("uses-builder", NAMESPACE).strip()
    assert token
    assert whoami(api, token) == f"system:serviceaccount:{NAMESPACE}:builder"


def test_a_pod_whose_service_account_is_missing_waits_with_failed_mount(
    secured: tuple[SecuredKubeAPI, PodEnv],
) -> None:
    _, env = secured
    env.create_pod("uses-nobody", token_pod("nobody"))
    event = env.wait_event("uses-nobody", "FailedMount")
    assert event["message"] == (
        'MountVolume.SetUp failed for volume "service-account-token" : failed to fetch token: serviceaccounts '
        '"nobody" not found'
    )
    assert env.pod("uses-nobody")["status"]["phase"] == "Pending"
