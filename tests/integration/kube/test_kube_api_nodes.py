"""Nodes and pods/binding through the real kubernetes client and kubectl: a Node and its table as
kube-apiserver prints it, and a binding that succeeds once and then conflicts, as a scheduler sees."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.integration


@pytest.fixture
def core(kube_api: Any) -> Any:
    api = config.new_client_from_config(config_file=str(kube_api.kubeconfig))
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()


def binding(pod: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod, "annotations": {"scheduled-by": "test"}},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def test_binding_assigns_a_pod_once(core: Any) -> None:
    name = f"bound-{uuid.uuid4().hex[:6]}"
    core.create_namespaced_pod(
        "default", {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    # The client would read the Status answer as a Binding: take the raw response.
    answer = core.create_namespaced_pod_binding(name, "default", binding(name, "node-a"), _preload_content=False)
    assert answer.status == 201
    assert json.loads(answer.data)["status"] == "Success"
    pod = core.read_namespaced_pod(name, "default")
    assert pod.spec.node_name == "node-a"
    assert pod.metadata.annotations["scheduled-by"] == "test"
    assert {(c.type, c.status) for c in pod.status.conditions} >= {("PodScheduled", "True")}
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_pod_binding(name, "default", binding(name, "node-b"), _preload_content=False)
    assert conflict.value.status == 409
    assert f'pod {name} is already assigned to node \\"node-a\\"' in conflict.value.body
    core.delete_namespaced_pod(name, "default", grace_period_seconds=0)


def test_nodes_are_cluster_scoped_with_kubectl_columns(kubectl: Any) -> None:
    name = f"node-{uuid.uuid4().hex[:6]}"
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"node-role.kubernetes.io/worker": ""}},
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady", "message": "x"}],
            "nodeInfo": {"kubeletVersion": "v1.37.0"},
        },
    }
    kubectl("create", "-f", "-", input=json.dumps(node))
    header, row = kubectl("get", "node", name).stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert row.split()[:3] == [name, "NotReady,SchedulingDisabled", "worker"]
    assert row.split()[-1] == "v1.37.0"
    assert kubectl("get", "nodes", "-n", "default", "-o", "name").stdout.split().count(f"node/{name}") == 1
    kubectl("delete", "node", name)
