"""Real kubectl meets the emulator's CRD validation: the errors a real cluster would print, word for word."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.fixtures.kube import Kubectl

pytestmark = pytest.mark.integration
Obj = dict[str, Any]


def _crd(group: str, versions: list[Obj]) -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"foos.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "foos", "singular": "foo", "kind": "Foo", "listKind": "FooList"},
            "versions": versions,
        },
    }


def _version(name: str, storage: bool, schema: Obj | None = None) -> Obj:
    return {
        "name": name,
        "served": True,
        "storage": storage,
        "schema": {"openAPIV3Schema": copy.deepcopy(schema or {"type": "object"})},
    }


def _apply(kubectl: Kubectl, tmp_path: Path, body: Obj, *, check: bool) -> Any:
    manifest = tmp_path / f"{body['metadata']['name']}.yaml"
    manifest.write_text(yaml.safe_dump(body))
    return kubectl("apply", "-f", str(manifest), check=check)


def test_a_metadata_schema_beyond_name_is_refused_with_kube_apiservers_message(
    kubectl: Kubectl, tmp_path: Path
) -> None:
    labels = {
        "type": "object",
        "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}},
    }
    result = _apply(kubectl, tmp_path, _crd("labels.example.com", [_version("v1", True, labels)]), check=False)
    assert result.returncode != 0
    assert (
        'The CustomResourceDefinition "foos.labels.example.com" is invalid: '
        "spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than "
        "name and generateName, but metadata is implicitly specified"
    ) in result.stderr
    assert "foos.labels.example.com" not in kubectl("get", "crds", "-o", "name").stdout


def test_a_former_storage_version_cannot_leave_spec_versions(kubectl: Kubectl, tmp_path: Path) -> None:
    group = "stored.example.com"
    _apply(kubectl, tmp_path, _crd(group, [_version("v1", True), _version("v2", False)]), check=True)
    _apply(kubectl, tmp_path, _crd(group, [_version("v1", False), _version("v2", True)]), check=True)
    stored = kubectl("get", "crd", f"foos.{group}", "-o", "jsonpath={.status.storedVersions}").stdout
    assert yaml.safe_load(stored) == ["v1", "v2"]

    result = _apply(kubectl, tmp_path, _crd(group, [_version("v2", True)]), check=False)
    assert result.returncode != 0
    assert (
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage '
        "version, and must remain in spec.versions until a storage migration ensures no data remains persisted in "
        "v1 and removes v1 from status.storedVersions"
    ) in result.stderr
    served = kubectl("get", "crd", f"foos.{group}", "-o", "jsonpath={.spec.versions[*].name}").stdout.split()
    assert served == ["v1", "v2"], "a refused update leaves the CRD as it was"


def test_a_misspelt_schema_keyword_is_an_unknown_field(kubectl: Kubectl, tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "propertis": {"size": {"type": "integer"}}}},
    }
    group = f"typo{kubectl.version[1]}.example.com"  # kubectl versions share the module's API server
    body = _crd(group, [_version("v1", True, schema)])
    result = _apply(kubectl, tmp_path, body, check=False)
    assert result.returncode != 0
    assert (
        'CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: strict decoding '
        'error: unknown field "spec.versions[0].schema.openAPIV3Schema.properties.spec.propertis"'
    ) in result.stderr

    manifest = tmp_path / "typo.yaml"
    manifest.write_text(yaml.safe_dump(body))
    warned = kubectl("apply", "--validate=warn", "-f", str(manifest))
    assert 'unknown field "spec.versions[0].schema.openAPIV3Schema.properties.spec.propertis"' in warned.stderr
    stored = yaml.safe_load(kubectl("get", "crd", f"foos.{group}", "-o", "yaml").stdout)
    assert stored["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"] == {"type": "object"}


def test_a_keyword_of_the_wrong_type_is_refused_at_decoding(kubectl: Kubectl, tmp_path: Path) -> None:
    schema = {"type": "object", "required": "spec", "properties": {"spec": {"type": "object"}}}
    result = _apply(kubectl, tmp_path, _crd("decode.example.com", [_version("v1", True, schema)]), check=False)
    assert result.returncode != 0
    assert (
        'CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: json: cannot '
        "unmarshal string into Go struct field JSONSchemaProps.spec.versions.schema.openAPIV3Schema.required of "
        "type []string"
    ) in result.stderr


def test_an_unrecognized_format_is_accepted_with_kube_apiservers_warning(kubectl: Kubectl, tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer", "format": "uint8"}}}},
    }
    group = f"formats{kubectl.version[1]}.example.com"  # kubectl versions share the module's API server
    result = _apply(kubectl, tmp_path, _crd(group, [_version("v1", True, schema)]), check=True)
    assert 'Warning: unrecognized format "uint8"' in result.stderr
    schema["description"] = "changed, so that the update reaches the server"
    again = _apply(kubectl, tmp_path, _crd(group, [_version("v1", True, schema)]), check=True)
    assert "configured" in again.stdout
    assert "unrecognized format" not in again.stderr, "an update warns only of what it newly introduces"
