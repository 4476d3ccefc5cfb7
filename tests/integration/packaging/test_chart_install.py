"""The rendered chart installs on the Kubernetes API emulator with the real kubectl: CRDs from the
chart's crds/, then every rendered object; the operator Deployment is accepted as rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from tests.fixtures.kube import Kubectl

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "atomesh"
NAMESPACE = "atomesh-system"
# The emulator serves the kinds atomesh itself uses (core, apps, rbac, ...), not networking.k8s.io or
# monitoring.coreos.com: Ingress, NetworkPolicy and ServiceMonitor are checked by the unit tests'
# schema validation instead.
VALUES: dict[str, Any] = {
    "rbac": {"extraSecretNames": ["atomesh-extra"]},
    "forge": {"webhook": {"existingSecret": "atomesh-webhook"}},
}


def rendered(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(VALUES, name="atomesh", namespace=NAMESPACE, is_install=True)
    objects = [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]
    target = tmp_path / "atomesh.yaml"
    target.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return target, objects


def test_rendered_chart_is_accepted_by_the_api_server(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest, objects = rendered(tmp_path)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}

    kubectl("apply", "--server-side", "-f", str(CHART / "crds"))
    kubectl("apply", "-f", "-", input=json.dumps(namespace))
    kubectl("apply", "-n", NAMESPACE, "-f", str(manifest))

    for obj in objects:
        stored = json.loads(kubectl("get", obj["kind"], obj["metadata"]["name"], "-n", NAMESPACE, "-o", "json").stdout)
        assert stored["metadata"]["labels"] == obj["metadata"]["labels"], obj["kind"]

    deployment = json.loads(kubectl("get", "deployment", "atomesh", "-n", NAMESPACE, "-o", "json").stdout)
    (expected,) = [o for o in objects if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (wanted,) = expected["spec"]["template"]["spec"]["containers"]
    assert (
        container["args"] == wanted["args"] == ["operator", "--all-namespaces", "--standalone", "--metrics-port=8080"]
    )
    assert container["image"] == wanted["image"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert deployment["metadata"]["labels"]["app.kubernetes.io/instance"] == "atomesh"

    crds = set(kubectl("get", "crd", "-o", "name").stdout.split())
    for name in ("agents.atomesh.io", "meshes.atomesh.io", "agentruns.atomesh.io"):
        assert f"customresourcedefinition.apiextensions.k8s.io/{name}" in crds
