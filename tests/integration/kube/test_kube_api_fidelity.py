"""What real clients see of the emulator beyond CRUD: Tables on watches (`kubectl get -w`), what a
DELETE answers, and time fields, each checked with real kubectl or over HTTP as kube-apiserver answers."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.fixtures.kube import Kubectl, RunningKubeAPI, http_error_status

pytestmark = pytest.mark.integration
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
RUNS = "/apis/atomesh.io/v1alpha1/namespaces/{ns}/agentruns"
AGR_HEADER = ["NAME", "AGENT", "PHASE", "REASON", "ARTIFACT", "REVIEW", "COST", "AGE"]


def _namespace(kube_api: RunningKubeAPI, name: str) -> str:
    try:
        kube_api.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    except urllib.error.HTTPError as exc:
        if exc.code != 409:
            raise
    return name


def _run(kube_api: RunningKubeAPI, ns: str, name: str, **status: Any) -> None:
    body = {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "metadata": {"name": name}}
    kube_api.request("POST", RUNS.format(ns=ns), body | {"spec": {"agentRef": {"name": "tidy"}}})
    _status(kube_api, ns, name, **status)


def _status(kube_api: RunningKubeAPI, ns: str, name: str, **status: Any) -> None:
    path = f"{RUNS.format(ns=ns)}/{name}/status"
    kube_api.request("PATCH", path, {"status": status}, "application/merge-patch+json")


class _Lines:
    """The stdout lines of a long-running process, read on a thread so a test never blocks forever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next(self) -> str:
        try:
            line = self.lines.get(timeout=60)  # a guard against a hang, not a timing assertion
        except queue.Empty:
            raise AssertionError("kubectl printed nothing more") from None
        if line is None:
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"kubectl ended ({self.process.wait()}): {stderr}")
        return line

    def until(self, text: str) -> str:
        while text not in (line := self.next()):
            pass
        return line


@pytest.fixture
def watching(kubectl: Kubectl) -> Iterator[Any]:
    """Start `kubectl ARGS` in the background; returns its lines; stops it at the end."""
    processes: list[subprocess.Popen[str]] = []

    def start(*args: str) -> _Lines:
        command = [kubectl.binary, "--kubeconfig", str(kubectl.kubeconfig), "--cache-dir", str(kubectl.cache_dir)]
        process = subprocess.Popen([*command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(process)
        return _Lines(process)

    yield start
    for process in processes:
        process.kill()
        process.communicate()


def test_get_watch_prints_the_printer_columns_on_every_line(
    kubectl: Kubectl, kube_api: RunningKubeAPI, watching: Any
) -> None:
    kube_api.apply_crds()
    ns = _namespace(kube_api, f"watch-{kubectl.version[0]}-{kubectl.version[1]}")
    review = {"url": "https://github.test/o/r/pull/7"}
    _run(kube_api, ns, "tidy-1", phase="Pending", reason="Queued", artifact={"type": "doc"}, review=review)
    _status(kube_api, ns, "tidy-1", usage={"costUSD": 0.25})
    lines = watching("get", "agr", "-n", ns, "-w")
    assert lines.next().split() == AGR_HEADER
    assert lines.next().split()[:7] == ["tidy-1", "tidy", "Pending", "Queued", "doc", review["url"], "0.25"]

    _status(kube_api, ns, "tidy-1", phase="Running", reason="PodStarted")
    row = lines.until("Running").split()
    assert row[:7] == ["tidy-1", "tidy", "Running", "PodStarted", "doc", review["url"], "0.25"]
    assert len(row) == len(AGR_HEADER)  # AGE too

    _run(kube_api, ns, "tidy-2", phase="Pending", reason="Queued", artifact={"type": "code"}, review=review)
    created = lines.until("tidy-2").split()
    # Created without status: the AGE ("0s", or "1s" on a busy machine) is the third column.
    assert created[:2] == ["tidy-2", "tidy"]
    assert re.fullmatch(r"[0-9]s", created[2]), created
    row = lines.until("code").split()
    assert row[:5] == ["tidy-2", "tidy", "Pending", "Queued", "code"]


def _watch(kube_api: RunningKubeAPI, path: str, accept: str = TABLE) -> list[dict[str, Any]]:
    """The events of a watch that ends by itself (timeoutSeconds) after replaying its history."""
    request = urllib.request.Request(kube_api.url + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return [json.loads(line) for line in response.read().splitlines() if line.strip()]


def test_watch_as_table_sends_column_definitions_once(kube_api: RunningKubeAPI) -> None:
    kube_api.apply_crds()
    ns = _namespace(kube_api, "watch-table")
    rv = kube_api.request("GET", RUNS.format(ns=ns))["metadata"]["resourceVersion"]
    _run(kube_api, ns, "one", phase="Pending")
    _status(kube_api, ns, "one", phase="Running")
    events = _watch(kube_api, f"{RUNS.format(ns=ns)}?watch=true&resourceVersion={rv}&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "MODIFIED"]
    tables = [e["object"] for e in events]
    assert all(t["kind"] == "Table" and t["apiVersion"] == "meta.k8s.io/v1" for t in tables)
    names = [c["name"] for c in tables[0]["columnDefinitions"]]
    assert names == ["Name", "Agent", "Phase", "Reason", "Artifact", "Review", "Cost", "Age"]
    assert all("columnDefinitions" not in t for t in tables[1:])
    assert [t["rows"][0]["cells"][2] for t in tables] == [None, "Pending", "Running"]
    row = tables[-1]["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert tables[-1]["metadata"]["resourceVersion"] == row["object"]["metadata"]["resourceVersion"]

    replay = f"{RUNS.format(ns=ns)}?watch=true&resourceVersion={rv}&timeoutSeconds=1"
    full = _watch(kube_api, replay + "&includeObject=Object")
    assert full[-1]["object"]["rows"][0]["object"]["status"]["phase"] == "Running"
    plain = _watch(kube_api, replay, "application/json")
    assert [e["object"]["kind"] for e in plain] == ["AgentRun"] * 3


def test_table_options_are_validated(kube_api: RunningKubeAPI) -> None:
    request = urllib.request.Request(
        kube_api.url + "/api/v1/namespaces?includeObject=Everything", headers={"Accept": TABLE}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    status = http_error_status(caught.value)
    assert caught.value.code == 400
    assert status["message"].startswith(
        'Unable to convert to Table as requested: includeObject: Unsupported value: "Everything"'
    )


@pytest.mark.parametrize(
    ("path", "body", "group", "kind"),
    [
        ("/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "gone"}}, None, "configmaps"),
        ("/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "gone"}}, None, "secrets"),
        (
            "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases",
            {"metadata": {"name": "gone"}},
            "coordination.k8s.io",
            "leases",
        ),
        (RUNS, {"metadata": {"name": "gone"}, "spec": {"agentRef": {"name": "tidy"}}}, "atomesh.io", "agentruns"),
    ],
)
def test_delete_answers_a_status_for_most_kinds(
    kube_api: RunningKubeAPI, path: str, body: dict[str, Any], group: str | None, kind: str
) -> None:
    kube_api.apply_crds()
    ns = _namespace(kube_api, "deletes")
    created = kube_api.request("POST", path.format(ns=ns), body)
    answer = kube_api.request("DELETE", f"{path.format(ns=ns)}/gone")
    details = {"name": "gone", "kind": kind, "uid": created["metadata"]["uid"]} | ({"group": group} if group else {})
    assert answer == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}


def test_delete_answers_the_object_for_pods_services_and_pending_deletes(kube_api: RunningKubeAPI) -> None:
    kube_api.apply_crds()
    ns = _namespace(kube_api, "deletes-object")
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/pods", pod)
    assert kube_api.request("DELETE", f"/api/v1/namespaces/{ns}/pods/p")["kind"] == "Pod"
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/serviceaccounts", {"metadata": {"name": "sa"}})
    assert kube_api.request("DELETE", f"/api/v1/namespaces/{ns}/serviceaccounts/sa")["kind"] == "ServiceAccount"

    held = {"name": "held", "finalizers": ["example.com/hold"]}
    kube_api.request("POST", RUNS.format(ns=ns), {"metadata": held, "spec": {"agentRef": {"name": "tidy"}}})
    pending = kube_api.request("DELETE", f"{RUNS.format(ns=ns)}/held")
    assert pending["kind"] == "AgentRun"
    assert pending["metadata"]["deletionTimestamp"]


def test_delete_of_a_terminating_namespace_is_a_conflict(kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, "terminating")
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c", "finalizers": ["x/y"]}})
    first = kube_api.request("DELETE", f"/api/v1/namespaces/{ns}")
    assert first["kind"] == "Namespace"
    assert first["status"]["phase"] == "Terminating"
    with pytest.raises(urllib.error.HTTPError) as caught:
        kube_api.request("DELETE", f"/api/v1/namespaces/{ns}")
    assert caught.value.code == 409
    message = http_error_status(caught.value)["message"]
    assert "The system is ensuring all content is removed from this namespace" in message
    path = f"/api/v1/namespaces/{ns}/configmaps/c"
    kube_api.request("PATCH", path, {"metadata": {"finalizers": None}}, "application/merge-patch+json")


def test_kubectl_delete_reads_both_answers(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, f"kubectl-deletes-{kubectl.version[0]}-{kubectl.version[1]}")
    kubectl("create", "configmap", "c", "-n", ns)
    assert kubectl("delete", "configmap", "c", "-n", ns).stdout.startswith('configmap "c" deleted')
    kubectl("create", "serviceaccount", "s", "-n", ns)
    assert kubectl("delete", "serviceaccount", "s", "-n", ns).stdout.startswith('serviceaccount "s" deleted')


def _event(name: str, involved: str, when: str) -> dict[str, Any]:
    """An Event as kopf posts it: `datetime.isoformat()` times, with a `+00:00` offset."""
    return {
        "metadata": {"name": name},
        "involvedObject": {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "name": involved},
        "type": "Normal",
        "reason": "Logging",
        "message": "handled",
        "source": {"component": "kopf"},
        "firstTimestamp": when,
        "lastTimestamp": when,
        "eventTime": when,
        "reportingComponent": "kopf",
        "reportingInstance": "dev",
    }


def test_event_times_are_stored_as_kube_apiserver_stores_them(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, f"events-{kubectl.version[0]}-{kubectl.version[1]}")
    when = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=123456)
    kube_api.request("POST", f"/api/v1/namespaces/{ns}/events", _event("e1", "tidy-9", when.isoformat()))
    stored = kube_api.request("GET", f"/api/v1/namespaces/{ns}/events/e1")
    assert stored["firstTimestamp"] == stored["lastTimestamp"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stored["eventTime"] == when.strftime("%Y-%m-%dT%H:%M:%S.123456Z")

    header, row = kubectl("get", "events", "-n", ns).stdout.splitlines()
    assert header.split()[:2] == ["LAST", "SEEN"]
    assert re.fullmatch(r"\d+m(\d+s)?", row.split()[0]), row  # an age, not <invalid>


def test_malformed_times_are_refused(kube_api: RunningKubeAPI) -> None:
    ns = _namespace(kube_api, "events-malformed")
    for field, value, layout in (
        ("lastTimestamp", "yesterday", "2006-01-02T15:04:05Z07:00"),
        ("eventTime", "2026-11-24T08:00:00+00:00", "2006-01-02T15:04:05.000000Z07:00"),  # MicroTime: 6 digits
    ):
        event = _event("bad", "tidy-9", "2026-11-24T08:00:00.000001Z") | {field: value}
        with pytest.raises(urllib.error.HTTPError) as caught:
            kube_api.request("POST", f"/api/v1/namespaces/{ns}/events", event)
        assert caught.value.code == 400
        message = http_error_status(caught.value)["message"]
        assert message.startswith(
            f'Event in version "v1" cannot be handled as a Event: parsing time "{value}" as "{layout}"'
        )
