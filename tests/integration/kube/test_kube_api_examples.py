"""The example manifests as a user applies them: plain YAML through real kubectl."""

from __future__ import annotations

import pytest
from tests.fixtures.kube import REPO, Kubectl

pytestmark = pytest.mark.integration


def test_a_mesh_with_bare_when_keys_applies_as_written(kubectl: Kubectl) -> None:
    """`when:` needs no quoting (a bare `on:` was read as the boolean true by kubectl's YAML 1.1 parser)."""
    assert "\n      when: accepted" in (REPO / "agents" / "triage-fix-release.yaml").read_text()
    kubectl("apply", "-f", str(REPO / "crds"))
    kubectl("apply", "-f", str(REPO / "agents" / "triage-fix-release.yaml"))
    edges = kubectl("get", "mesh", "triage-fix-release", "-o", "jsonpath={.spec.edges[*].when}").stdout
    assert edges.split() == ["accepted", "accepted"]
