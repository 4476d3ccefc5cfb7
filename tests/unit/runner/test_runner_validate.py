"""Config artifacts: YAML that parses and Kubernetes manifests that match the API schemas."""

from __future__ import annotations

from atomesh.review.surface import ChangedFile
from atomesh.runner.validate import validate_config

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: "two"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
"""


def changed(path: str, after: str | None) -> ChangedFile:
    return ChangedFile(path=path, status="modified" if after is not None else "deleted", after=after)


def test_manifests_settings_and_broken_yaml() -> None:
    files = (
        changed("k8s/deploy.yaml", DEPLOYMENT),
        changed("k8s/ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\n"),
        changed("k8s/custom.yaml", "apiVersion: atomesh.io/v1alpha1\nkind: Agent\nmetadata: {name: a}\n"),
        changed("config/app.yml", "replicas: 1\n"),
        changed("config/broken.yaml", "a: [1, 2\n"),
        changed("README.md", "# not yaml\n"),
        changed("k8s/gone.yaml", None),
    )
    results = {v.path: v for v in validate_config(files)}
    assert set(results) == {"k8s/deploy.yaml", "k8s/ok.yaml", "k8s/custom.yaml", "config/app.yml", "config/broken.yaml"}
    deploy = results["k8s/deploy.yaml"]
    assert (deploy.validator, deploy.ok) == ("kubernetes-validate", False)
    assert deploy.messages[0].startswith("Deployment web: spec/replicas: ")
    assert results["k8s/ok.yaml"].ok
    assert results["k8s/custom.yaml"].ok  # no bundled schema for a custom resource
    # ...and the surface says so instead of showing it as checked.
    assert results["k8s/custom.yaml"].messages == ("Agent a: no bundled schema for this kind; not validated",)
    assert results["k8s/ok.yaml"].messages == ()
    assert (results["config/app.yml"].validator, results["config/app.yml"].ok) == ("yaml", True)
    assert (results["config/broken.yaml"].validator, results["config/broken.yaml"].ok) == ("yaml", False)
