"""The operator under test: the Kubernetes API emulator, the local kubelet running the stand-in
runner image (fake_runner.py), and the real operator (kopf) in a thread, all over loopback HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from atomesh.controller.main import OperatorThread
from atomesh.core.config import OperatorConfig
from atomesh.devstack.identity import (
    OPERATOR_NAMESPACE,
    OPERATOR_SERVICE_ACCOUNT,
    chart_rbac,
    local_scheduler_binding,
)
from atomesh.devstack.kube.authn import StaticToken
from atomesh.devstack.kubelet.background import BackgroundKubelet
from atomesh.devstack.kubelet.config import DEFAULT_NODE_NAME, KubeletConfig
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, PODS
from tests.fixtures.kube import CRDS_DIR, RunningKubeAPI, SecuredKubeAPI, secured_kube_api

TEST_IMAGE = "atomesh-test-runner:1"
FAKE_RUNNER = Path(__file__).with_name("fake_runner.py")
KUBECTL = str(Path(sys.executable).parent / "kubectl")


def apply_crds(kube_api: RunningKubeAPI) -> None:
    for path in sorted(CRDS_DIR.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            # A real API server validates only name/generateName of metadata; drop the generic object
            # schema so the emulator does not prune metadata fields.
            version["schema"]["openAPIV3Schema"]["properties"].pop("metadata", None)
        kube_api.apply(crd)


def operator_config() -> OperatorConfig:
    return OperatorConfig(
        runner_image=TEST_IMAGE,
        forge_api_url="http://forge.invalid/api/v3",
        forge_git_url="http://forge.invalid",
        schedule_interval_seconds=0.2,
    )


@dataclass
class Stack:
    kube_api: RunningKubeAPI
    kube: RestKube
    namespace: str

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        command = [KUBECTL, "--kubeconfig", str(self.kube_api.kubeconfig), "-n", self.namespace, *args]
        result = subprocess.run(command, capture_output=True, text=True, input=input, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def apply(self, manifest: dict[str, Any]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump(manifest))

    def run(self, name: str) -> dict[str, Any]:
        found = self.kube.get(AGENT_RUNS, self.namespace, name)
        assert found is not None, f"AgentRun {name} not found"
        return found

    def pod(self, name: str) -> dict[str, Any] | None:
        return self.kube.get(PODS, self.namespace, name)

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Poll until `check()` is truthy; a bounded wait, not a timing assertion."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def wait_phase(self, name: str, phases: set[str], timeout: float = 60.0) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            status = self.run(name).get("status") or {}
            return status if status.get("phase") in phases else None

        result: dict[str, Any] = self.wait_for(f"{name} to reach {sorted(phases)}", reached, timeout)
        return result

    def events(self, name: str) -> list[str]:
        """Reasons of the Events about `name`, oldest first."""
        out = json.loads(self.kubectl("get", "events", "-o", "json", f"--field-selector=involvedObject.name={name}"))
        # firstTimestamp has whole seconds (as kube-apiserver stores it): the resourceVersion orders
        # the events of one second by when they were written.
        items = sorted(
            out["items"], key=lambda e: (e.get("firstTimestamp") or "", int(e["metadata"]["resourceVersion"]))
        )
        return [item["reason"] for item in items]


NODE = StaticToken("node-token", f"system:node:{DEFAULT_NODE_NAME}", "node", ("system:nodes",))
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_SERVICE_ACCOUNT}"


@pytest.fixture(scope="module")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    """The emulator with authentication and RBAC, as a cluster has them."""
    with secured_kube_api(tmp_path_factory.mktemp("kube"), {NODE.token: NODE}) as api:
        yield api


@pytest.fixture(scope="module")
def cluster(kube_api: SecuredKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    """CRDs and the chart's RBAC applied, and a local kubelet (a node) that runs the stand-in runner image."""
    apply_crds(kube_api)
    kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}})
    for obj in [*chart_rbac(), local_scheduler_binding(DEFAULT_NODE_NAME)]:
        kube_api.apply(obj)
    config = KubeletConfig(
        server=kube_api.url,
        token=NODE.token,
        tls=kube_api.pki.client_context(),
        root_dir=tmp_path_factory.mktemp("kubelet"),
        image_pattern="atomesh",
        entrypoints={"atomesh-test-runner": [sys.executable, str(FAKE_RUNNER)]},
    )
    with BackgroundKubelet(config):
        yield kube_api
    # The kubelet runs under the Node authorizer: it reads only what its own pods name.
    denied = [message for user, message in kube_api.access.denials if user == NODE.name]
    assert not denied, f"the Node authorizer denied the local kubelet: {denied}"


def operator_kubeconfig(cluster: SecuredKubeAPI) -> Path:
    """A kubeconfig of the chart's ServiceAccount (a TokenRequest token), as the operator's pod has."""
    path = f"/api/v1/namespaces/{OPERATOR_NAMESPACE}/serviceaccounts/{OPERATOR_SERVICE_ACCOUNT}/token"
    token = cluster.request("POST", path, {"spec": {"expirationSeconds": 3600}})["status"]["token"]
    return cluster.token_kubeconfig("operator", token)


def assert_operator_never_denied(cluster: SecuredKubeAPI) -> None:
    denied = [message for user, message in cluster.access.denials if user == OPERATOR_USER]
    assert not denied, f"the chart's RBAC denied the operator: {denied}"


@pytest.fixture(scope="module")
def operator(cluster: SecuredKubeAPI) -> Iterator[OperatorThread]:
    """The operator as the chart installs it: its ServiceAccount, with the chart's RBAC and nothing more."""
    with OperatorThread(operator_config(), str(operator_kubeconfig(cluster)), all_namespaces=True) as running:
        yield running
    assert_operator_never_denied(cluster)


def make_namespace(kube_api: RunningKubeAPI, name: str) -> None:
    kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for secret, key in (("atomesh-forge", "token"), ("atomesh-model", "api-key")):
        kube_api.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret, "namespace": name},
                "stringData": {key: f"not-a-real-{key}"},
            }
        )


@pytest.fixture
def stack(cluster: RunningKubeAPI, operator: OperatorThread, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A fresh namespace per test, served by the module's operator."""
    with namespace_stack(cluster, "t-" + request.node.name.lower().replace("_", "-")[:40].strip("-")) as stack:
        yield stack


@contextmanager
def namespace_stack(cluster: RunningKubeAPI, namespace: str) -> Iterator[Stack]:
    """`namespace`, made, and a Stack on it with its own client (closed after)."""
    make_namespace(cluster, namespace)
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    try:
        yield Stack(cluster, kube, namespace)
    finally:
        kube.close()


def agent_manifest(name: str = "tidy", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": name},
        "spec": {
            "purpose": "Tidy the README.",
            "instructions": "Tidy it.",
            "input": {
                "schema": {
                    "type": "object",
                    "properties": {"mode": {"type": "string"}, "seconds": {"type": "number"}},
                    "required": ["mode"],
                }
            },
            "output": {"artifact": "doc", "paths": ["README.md"]},
            "workspace": {"repo": "acme/site"},
            "harness": {"model": "claude-sonnet-4-5"},
            **spec,
        },
    }


def run_manifest(name: str, agent: str = "tidy", **input_: Any) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name},
        "spec": {"agentRef": {"name": agent}, "input": input_},
    }
