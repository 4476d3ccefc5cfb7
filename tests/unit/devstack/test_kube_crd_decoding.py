"""How kube-apiserver decodes a CRD before validating it, and what it says besides errors.

Unknown fields (strict decoding), values of the wrong JSON type (Go's decoding errors), nulls,
warnings, and the CRDs this repository ships, which must all pass.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from tests.unit.devstack.crd_helpers import REPO, Obj, crd, errors
from tests.unit.packaging.test_chart import SCENARIOS, render

from atomesh.devstack.kube import crd_fields, crd_warnings, crds
from atomesh.devstack.kube.errors import ApiError


@pytest.mark.parametrize(
    "path", [*sorted((REPO / "crds").glob("*.yaml")), REPO / "tests/integration/kube/widgets-crd.yaml"]
)
def test_our_crds_are_valid(path: Path) -> None:
    body = yaml.safe_load(path.read_text())
    crds.crd_defaults(body)
    assert errors(body) == []


def test_the_kopf_peering_crds_the_chart_renders_are_valid() -> None:
    rendered = [o for o in render(SCENARIOS["peering-cluster"]) if o.get("kind") == "CustomResourceDefinition"]
    assert {o["metadata"]["name"] for o in rendered} == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}
    for body in rendered:
        crds.crd_defaults(body)
        assert errors(body) == [], body["metadata"]["name"]


def test_unknown_fields_follow_the_v1_types_and_their_lax_unmarshalers() -> None:
    body = crd(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "propertis": {},
                    "default": {"anything": 1},
                    "properties": {
                        "list": {"type": "array", "items": {"type": "string", "typo": 1}},
                        "map": {"type": "object", "additionalProperties": {"type": "string", "typo": 2}},
                    },
                    "x-kubernetes-validations": [{"rule": "true", "mesage": "m"}],
                }
            },
        }
    )
    body["spec"]["names"]["shortname"] = ["f"]
    assert crd_fields.unknown(body) == [
        "spec.names.shortname",
        "spec.versions[0].schema.openAPIV3Schema.properties.spec.propertis",
        "spec.versions[0].schema.openAPIV3Schema.properties.spec.x-kubernetes-validations[0].mesage",
    ]
    crd_fields.prune(body)
    spec = body["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert "propertis" not in spec
    assert spec["default"] == {"anything": 1}, "free JSON is never pruned"
    assert spec["properties"]["list"]["items"] == {"type": "string"}, "dropped silently below items"
    assert spec["properties"]["map"]["additionalProperties"] == {"type": "string"}
    assert spec["x-kubernetes-validations"] == [{"rule": "true"}]


P = "spec.versions.schema.openAPIV3Schema"


@pytest.mark.parametrize(
    ("schema", "version", "message"),
    [
        (
            {"type": "object", "required": "spec"},
            {},
            f"json: cannot unmarshal string into Go struct field JSONSchemaProps.{P}.required of type []string",
        ),
        (
            {"type": "object", "properties": {"spec": {"type": "string", "maxLength": 1.5}}},
            {},
            f"json: cannot unmarshal number 1.5 into Go struct field JSONSchemaProps.{P}.properties.maxLength "
            "of type int64",
        ),
        (
            {"type": "object"},
            {"served": "yes"},
            "json: cannot unmarshal string into Go struct field CustomResourceDefinitionVersion.spec.versions.served "
            "of type bool",
        ),
        (
            {"type": "object", "properties": {"l": {"type": "array", "items": {"type": "string", "required": 3}}}},
            {},
            "json: cannot unmarshal number into Go struct field JSONSchemaProps.required of type []string",
        ),
        (
            {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": "yes"}}},
            {},
            "boolean or JSON schema expected",
        ),
    ],
)
def test_values_of_the_wrong_json_type_fail_decoding_with_gos_message(schema: Obj, version: Obj, message: str) -> None:
    body = crd(schema)
    body["spec"]["versions"][0].update(version)
    with pytest.raises(ApiError) as raised:
        crds.crd_defaults(body)
    assert raised.value.code == 400
    assert raised.value.message == (
        'CustomResourceDefinition in version "v1" cannot be handled as a CustomResourceDefinition: ' + message
    )


def test_nulls_leave_fields_unset() -> None:
    body = crd({"type": "object", "enum": None, "properties": {"a": None, "b": {"type": "string", "default": None}}})
    crds.crd_defaults(body)
    assert body["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == {
        "type": "object",
        "properties": {"a": {}, "b": {"type": "string"}},
    }


def test_warnings_for_unrecognized_formats_and_sets_of_objects() -> None:
    body = crd(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "format": "k8sshortname"},
                "b": {"type": "object", "format": "date-time"},
                "c": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "object"}},
            },
        },
        versions=2,
    )
    assert crd_warnings.warnings(body) == [
        'unrecognized format "date-time"',
        'x-kubernetes-list-type: set for items of type "object" is not supported by server-side apply or CEL '
        "validation rules",
    ]
    assert crd_warnings.warnings(body, old=copy.deepcopy(body)) == []
