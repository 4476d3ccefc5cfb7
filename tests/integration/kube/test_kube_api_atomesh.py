"""atomesh's own resources as a user sees them: the example manifests and the printer columns,
through real kubectl."""

from __future__ import annotations

import json

import pytest
from tests.fixtures.kube import REPO, Kubectl, RunningKubeAPI

from atomesh.api import conditions as c

pytestmark = pytest.mark.integration


def test_a_mesh_with_bare_when_keys_applies_as_written(kubectl: Kubectl) -> None:
    """`when:` needs no quoting (a bare `on:` was read as the boolean true by kubectl's YAML 1.1 parser)."""
    assert "\n      when: accepted" in (REPO / "agents" / "triage-fix-release.yaml").read_text()
    kubectl("apply", "-f", str(REPO / "crds"))
    kubectl("apply", "-f", str(REPO / "agents" / "triage-fix-release.yaml"))
    edges = kubectl("get", "mesh", "triage-fix-release", "-o", "jsonpath={.spec.edges[*].when}").stdout
    assert edges.split() == ["accepted", "accepted"]


def test_kubectl_get_agentruns_says_why_a_run_failed(kubectl: Kubectl, kube_api: RunningKubeAPI) -> None:
    kubectl("apply", "-f", str(REPO / "crds"))
    name = f"failed-{kubectl.version[1]}"
    run = {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "metadata": {"name": name}}
    kubectl("apply", "-f", "-", input=json.dumps({**run, "spec": {"agentRef": {"name": "fix"}}}))
    status = {"phase": "Failed", "reason": c.CHECKOUT_FAILED, "message": "cannot clone demo/nope"}
    kube_api.request(
        "PATCH",
        f"/apis/atomesh.io/v1alpha1/namespaces/default/agentruns/{name}/status",
        {"status": status},
        "application/merge-patch+json",
    )
    header, row = kubectl("get", "agr", name).stdout.splitlines()
    assert header.split()[:4] == ["NAME", "AGENT", "PHASE", "REASON"]
    assert row.split()[:4] == [name, "fix", "Failed", "CheckoutFailed"]
