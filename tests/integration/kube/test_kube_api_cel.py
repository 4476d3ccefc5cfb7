"""Real kubectl against the emulator: the CEL rules of the atomesh CRDs reject cross-field mistakes at
`kubectl apply` with the rule's message, transition rules guard updates, and a CRD whose rule does not compile
is refused with kube-apiserver's message."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.crd_rules import COVERED
from tests.fixtures.kube import REPO, Kubectl

from atomesh.api import rules

pytestmark = pytest.mark.integration
CRDS = REPO / "crds"
CORPUS = REPO / "tests" / "lint_corpus"


def _named(doc: dict[str, Any], kubectl: Kubectl, name: str) -> str:
    doc = copy.deepcopy(doc)
    doc["metadata"] = {"name": f"{name}-{kubectl.version[0]}-{kubectl.version[1]}"}
    return yaml.safe_dump(doc)


@pytest.mark.parametrize("case", sorted(COVERED))
def test_apply_rejects_what_lint_rejects_with_the_rule_message(kubectl: Kubectl, case: str) -> None:
    kubectl("apply", "-f", str(CRDS))
    field, text = COVERED[case]
    doc = yaml.safe_load((CORPUS / "invalid" / case).read_text())
    result = kubectl("apply", "-f", "-", input=_named(doc, kubectl, case.removesuffix(".yaml")), check=False)
    assert result.returncode != 0, result.stdout
    assert f"{field}: Invalid value: " in result.stderr, result.stderr
    assert text in result.stderr, result.stderr


def test_apply_accepts_the_example_agents(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    applied = kubectl("apply", "-f", str(REPO / "agents")).stdout
    assert "agent.atomesh.io/bug-fix" in applied


def test_agent_ref_of_a_run_cannot_change(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", str(CRDS))
    name = f"immutable-{kubectl.version[0]}-{kubectl.version[1]}"
    run = {"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", "spec": {"agentRef": {"name": "bug-fix"}}}
    kubectl("apply", "-f", "-", input=_named(run, kubectl, "immutable"))
    moved = kubectl("patch", "agr", name, "--type=merge", "-p", '{"spec":{"agentRef":{"name":"other"}}}', check=False)
    assert moved.returncode != 0
    assert f'spec.agentRef: Invalid value: "object": {rules.AGENT_REF_IMMUTABLE}' in moved.stderr, moved.stderr
    kubectl("patch", "agr", name, "--type=merge", "-p", '{"spec":{"cancel":true}}')


def test_a_crd_whose_rule_does_not_compile_is_refused(kubectl: Kubectl, tmp_path: Path) -> None:
    suffix = f"v{kubectl.version[0]}x{kubectl.version[1]}"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets{suffix}.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": f"gadgets{suffix}", "kind": f"Gadget{suffix}"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                    "x-kubernetes-validations": [{"rule": "self.sise > 0"}],
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    path = tmp_path / "crd.yaml"
    path.write_text(yaml.safe_dump(crd))
    result = kubectl("apply", "-f", str(path), check=False)
    assert result.returncode != 0
    assert (
        "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "
        'apiextensions.ValidationRule{Rule:"self.sise > 0"' in result.stderr
    ), result.stderr
    assert "compilation failed: ERROR: <input>:1:5: undefined field 'sise'" in result.stderr, result.stderr
