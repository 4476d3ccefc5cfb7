"""`kubectl get` of built-in kinds prints kube-apiserver's columns and cells (its Table printers)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.fixtures.kube import Kubectl, RunningKubeAPI

pytestmark = pytest.mark.integration
AGE = re.compile(r"^\d+(s|m)")


def _rows(kubectl: Kubectl, *args: str) -> list[list[str]]:
    """The lines of `kubectl get ARGS`, split on runs of two or more spaces (cells may hold one space)."""
    lines = [line for line in kubectl("get", *args).stdout.splitlines() if line.strip()]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def _namespace(kube_api: RunningKubeAPI, kubectl: Kubectl, prefix: str) -> str:
    name = f"{prefix}-{kubectl.version[0]}-{kubectl.version[1]}"
    kube_api.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _running_pod(ns: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "nodeName": "local",
            "containers": [{"name": "app", "image": "busybox"}, {"name": "side", "image": "busybox"}],
        },
    }


def test_pods(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, kubectl, "print-pods")
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/pods", _running_pod(ns))
    status = {
        "phase": "Running",
        "podIP": "10.1.2.3",
        "podIPs": [{"ip": "10.1.2.3"}],
        "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {"startedAt": _ago(minutes=3)}}},
            {
                "name": "side",
                "ready": False,
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": _ago(minutes=5)}},
            },
        ],
    }
    kube_api.request(
        "PATCH", f"/api/v1/namespaces/{ns}/pods/web/status", {"status": status}, "application/merge-patch+json"
    )
    kube_api.request(
        "POST",
        f"/api/v1/namespaces/{ns}/pods",
        {"metadata": {"name": "new"}, "spec": _running_pod(ns)["spec"] | {"nodeName": None}},
    )

    header, *rows = _rows(kubectl, "pods", "-n", ns)
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    by_name = {row[0]: row for row in rows}
    assert by_name["web"][1:3] == ["1/2", "CrashLoopBackOff"]
    assert re.fullmatch(r"2 \(5m\d*s? ago\)", by_name["web"][3]), by_name["web"]
    assert by_name["new"][1:4] == ["0/2", "Pending", "0"]

    header, *rows = _rows(kubectl, "pods", "-n", ns, "-o", "wide")
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    by_name = {row[0]: row for row in rows}
    assert by_name["web"][5:] == ["10.1.2.3", "local", "<none>", "<none>"]
    assert by_name["new"][5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_configmaps_secrets_serviceaccounts_namespaces_leases(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, kubectl, "print-misc")
    base = f"/api/v1/namespaces/{ns}"
    kube_api.request(
        "POST", f"{base}/configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"}, "binaryData": {"b": "AA=="}}
    )
    kube_api.request("POST", f"{base}/secrets", {"metadata": {"name": "s"}, "stringData": {"k": "v"}})
    kube_api.request("POST", f"{base}/serviceaccounts", {"metadata": {"name": "robot"}})
    lease = {"metadata": {"name": "leader"}, "spec": {"holderIdentity": "op-1"}}
    kube_api.request("POST", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases", lease)

    header, row = _rows(kubectl, "configmaps", "c", "-n", ns)
    assert (header, row[:2]) == (["NAME", "DATA", "AGE"], ["c", "2"])
    header, row = _rows(kubectl, "secrets", "s", "-n", ns)
    assert (header, row[:3]) == (["NAME", "TYPE", "DATA", "AGE"], ["s", "Opaque", "1"])
    header, row = _rows(kubectl, "serviceaccounts", "robot", "-n", ns)
    assert (header, row[:2]) == (["NAME", "SECRETS", "AGE"], ["robot", "0"])
    header, row = _rows(kubectl, "namespaces", ns)
    assert (header, row[:2]) == (["NAME", "STATUS", "AGE"], [ns, "Active"])
    assert AGE.match(row[2])
    header, row = _rows(kubectl, "leases", "leader", "-n", ns)
    assert (header, row[:2]) == (["NAME", "HOLDER", "AGE"], ["leader", "op-1"])


def test_services_deployments_and_bindings(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, kubectl, "print-apps")
    service = {
        "metadata": {"name": "web"},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ports": [{"port": 80, "protocol": "TCP"}],
            "selector": {"app": "web"},
        },
    }
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/services", service)
    header, row = _rows(kubectl, "services", "web", "-n", ns, "-o", "wide")
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert row[:5] + row[6:] == ["web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "app=web"]

    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}
    deployment = {
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    kube_api.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", deployment)
    header, row = _rows(kubectl, "deployments", "web", "-n", ns, "-o", "wide")
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert row[:4] + row[5:] == ["web", "0/3", "0", "0", "app", "nginx:1", "app=web"]

    binding = {
        "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": ns}, {"kind": "User", "name": "ann"}],
    }
    kube_api.request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", binding)
    header, row = _rows(kubectl, "rolebindings", "b", "-n", ns, "-o", "wide")
    assert header == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert row[:2] + row[3:] == ["b", "Role/reader", "ann", f"{ns}/robot"]

    role = {"metadata": {"name": "reader"}, "rules": []}
    kube_api.request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", role)
    header, row = _rows(kubectl, "roles", "reader", "-n", ns)
    assert header == ["NAME", "CREATED AT"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[1])


def test_events_wide(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, kubectl, "print-events")
    event = {
        "metadata": {"name": "run.1"},
        "involvedObject": {"kind": "AgentRun", "name": "tidy-1", "fieldPath": "spec.agentRef"},
        "type": "Warning",
        "reason": "Failed",
        "message": "  checkout failed  ",
        "source": {"component": "atomesh", "host": "node-a"},
        "firstTimestamp": _ago(minutes=20),
        "lastTimestamp": _ago(minutes=2),
        "count": 3,
    }
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/events", event)
    header, row = _rows(kubectl, "events", "-n", ns, "-o", "wide")
    assert header == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "SUBOBJECT",
        "SOURCE",
        "MESSAGE",
        "FIRST SEEN",
        "COUNT",
        "NAME",
    ]
    assert row[1:7] == ["Warning", "Failed", "agentrun/tidy-1", "spec.agentRef", "atomesh, node-a", "checkout failed"]
    assert re.fullmatch(r"\d+m\d*s?", row[0]), row  # LAST SEEN and FIRST SEEN are ages
    assert re.fullmatch(r"\d+m", row[7]), row
    assert row[8:] == ["3", "run.1"]
