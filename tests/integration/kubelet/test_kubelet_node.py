"""The local kubelet's Node against the emulator's node lifecycle controller, with short intervals:
it registers a labelled, tainted Node, keeps its Lease and NodeStatus fresh so the Node stays Ready
over several grace periods, and once it stops the controller marks the Node Unknown and unreachable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from tests.integration.kubelet.helpers import python_container

from atomesh.devstack.kube import KubeAPIServer, write_kubeconfig
from atomesh.devstack.kubelet import BackgroundKubelet, KubeletConfig
from atomesh.devstack.kubelet.nodestatus import LOCAL_RUNNER_LABELS, LOCAL_RUNNER_TAINTS

pytestmark = pytest.mark.integration

GRACE = 2.0  # the controller's grace period; the kubelet renews its Lease every 0.25 s
WAIT_SECONDS = 30.0
NODE = "atomesh-local-test"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[KubeAPIServer, client.ApiClient]]:
    with KubeAPIServer(node_monitor_period=0.1, node_monitor_grace_period=GRACE) as kube:
        kubeconfig = tmp_path / "kubeconfig"
        write_kubeconfig(kube.url, kubeconfig)
        api = config.new_client_from_config(config_file=str(kubeconfig))
        try:
            yield kube, api
        finally:
            api.close()


def kubelet_config(kube: KubeAPIServer, root: Path) -> KubeletConfig:
    return KubeletConfig(
        server=kube.url,
        root_dir=root,
        node_name=NODE,
        node_labels=LOCAL_RUNNER_LABELS,
        node_taints=LOCAL_RUNNER_TAINTS,
        node_lease_duration_seconds=1,
        node_status_update_frequency=0.25,
    )


def conditions(node: Any) -> dict[str, str]:
    return {c.type: c.status for c in node.status.conditions or []}


def wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"never: {what}")


def test_node_stays_ready_while_the_kubelet_runs_and_goes_unknown_when_it_stops(
    server: tuple[KubeAPIServer, client.ApiClient], tmp_path: Path
) -> None:
    kube, api = server
    core = client.CoreV1Api(api)
    leases = client.CoordinationV1Api(api)
    with BackgroundKubelet(kubelet_config(kube, tmp_path / "kubelet")):
        node = core.read_node(NODE)
        assert node.metadata.labels["atomesh.io/local-runner"] == "true"
        assert node.metadata.labels["kubernetes.io/hostname"] == NODE
        assert [(t.key, t.value, t.effect) for t in node.spec.taints] == [
            ("atomesh.io/local-runner", "true", "NoSchedule")
        ]
        assert conditions(node) == {
            "MemoryPressure": "False",
            "DiskPressure": "False",
            "PIDPressure": "False",
            "Ready": "True",
        }
        assert {"cpu", "memory", "pods", "ephemeral-storage"} <= set(node.status.capacity)
        assert node.status.allocatable == node.status.capacity
        assert node.status.node_info.kubelet_version
        assert {a.type for a in node.status.addresses} == {"InternalIP", "Hostname"}
        lease = leases.read_namespaced_lease(NODE, "kube-node-lease")
        assert lease.spec.holder_identity == NODE
        assert lease.spec.lease_duration_seconds == 1
        assert lease.metadata.owner_references[0].uid == node.metadata.uid
        first_renewal = lease.spec.renew_time
        # Several grace periods: without renewals the controller would have marked it Unknown by now.
        time.sleep(GRACE * 3)
        node = core.read_node(NODE)
        assert conditions(node)["Ready"] == "True"
        assert {t.key for t in node.spec.taints} == {"atomesh.io/local-runner"}
        assert leases.read_namespaced_lease(NODE, "kube-node-lease").spec.renew_time > first_renewal
    # Stopped: the Node stays (as a real kubelet's does) and the controller marks it unreachable.
    node = wait_for(lambda: (n := core.read_node(NODE)) and conditions(n)["Ready"] == "Unknown" and n, "Unknown")
    assert set(conditions(node).values()) == {"Unknown"}
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    events = core.list_namespaced_event("default", field_selector=f"involvedObject.name={NODE}").items
    assert [(e.reason, e.message, e.source.component) for e in events] == [
        ("NodeNotReady", f"Node {NODE} status is now: NodeNotReady", "node-controller")
    ]
    assert (ready.reason, ready.message) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")
    wait_for(
        lambda: (
            {(t.key, t.effect) for t in core.read_node(NODE).spec.taints or []}
            >= {("node.kubernetes.io/unreachable", "NoSchedule"), ("node.kubernetes.io/unreachable", "NoExecute")}
        ),
        "unreachable taints",
    )
    # A kubelet that comes back finds its Node, posts Ready again, and the controller lifts the taints.
    with BackgroundKubelet(kubelet_config(kube, tmp_path / "kubelet")):
        wait_for(
            lambda: {t.key for t in core.read_node(NODE).spec.taints or []} == {"atomesh.io/local-runner"},
            "the unreachable taints removed",
        )
        assert conditions(core.read_node(NODE))["Ready"] == "True"


def test_tainted_kubelet_runs_only_pods_that_tolerate_its_taint(
    server: tuple[KubeAPIServer, client.ApiClient], tmp_path: Path
) -> None:
    kube, api = server
    core = client.CoreV1Api(api)

    def pod(name: str, **spec: Any) -> dict[str, Any]:
        container = python_container("main", "print('ran')")
        return {"metadata": {"name": name}, "spec": {"restartPolicy": "Never", "containers": [container], **spec}}

    placement = {
        "tolerations": [
            {"key": "atomesh.io/local-runner", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
        ],
        "nodeSelector": {"atomesh.io/local-runner": "true"},
    }
    with BackgroundKubelet(kubelet_config(kube, tmp_path / "kubelet")):
        core.create_namespaced_pod("default", pod("intolerant"))
        core.create_namespaced_pod("default", pod("elsewhere", **{**placement, "nodeSelector": {"disk": "ssd"}}))
        core.create_namespaced_pod("default", pod("runner", **placement))
        wait_for(lambda: core.read_namespaced_pod("runner", "default").status.phase == "Succeeded", "runner ran")
        assert core.read_namespaced_pod("runner", "default").spec.node_name == NODE
        # No in-process log source here: the API server finds the kubelet through the Node it registered.
        assert core.read_namespaced_pod_log("runner", "default") == "ran\n"
        # Watch events arrive in order: the kubelet had judged the other two before it ran the third.
        for name in ("intolerant", "elsewhere"):
            left = core.read_namespaced_pod(name, "default")
            assert (left.spec.node_name, left.status.phase) == (None, "Pending")


def test_a_pod_bound_to_the_node_that_it_cannot_run_is_rejected(
    server: tuple[KubeAPIServer, client.ApiClient], tmp_path: Path
) -> None:
    kube, api = server
    core = client.CoreV1Api(api)
    # What a DaemonSet tolerating every taint gets on a real cluster: a pod bound to this Node.
    bound = {
        "metadata": {"name": "daemon"},
        "spec": {"nodeName": NODE, "containers": [{"name": "proxy", "image": "registry.k8s.io/kube-proxy:v1.37.0"}]},
    }
    with BackgroundKubelet(kubelet_config(kube, tmp_path / "kubelet")):
        core.create_namespaced_pod("default", bound)
        pod = wait_for(
            lambda: (p := core.read_namespaced_pod("daemon", "default")).status.phase == "Failed" and p, "rejected"
        )
    assert pod.status.reason == "UnsupportedImage"
    assert pod.status.message.startswith(f"Pod was rejected: the local runner on node {NODE} runs only images")
    assert "registry.k8s.io/kube-proxy:v1.37.0" in pod.status.message
