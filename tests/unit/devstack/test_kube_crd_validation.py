"""CRD validation against kube-apiserver's own expectations.

The schema cases and their messages come from apiextensions-apiserver's integration tests
(`test/integration/validation_test.go`: `TestNonStructuralSchemaConditionForCRDV1` and the
structural cases of `…V1Beta1MigratedData`); a schema shared by every version is reported under
`spec.validation`, one that differs under `spec.versions[i].schema`, as kube-apiserver does.
"""

from __future__ import annotations

import pytest
import yaml
from tests.unit.devstack.crd_helpers import assert_errors, crd, errors

from atomesh.devstack.kube import crds
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.structural import go_regexp_error

V = "spec.validation.openAPIV3Schema"
SCHEMA_CASES: list[tuple[str, str, list[str]]] = [
    (
        "int-or-string and preserve-unknown-fields",
        "x-kubernetes-preserve-unknown-fields: true\nx-kubernetes-int-or-string: true",
        [
            f"{V}.x-kubernetes-preserve-unknown-fields: Invalid value: true: "
            "must be false if x-kubernetes-int-or-string is true"
        ],
    ),
    (
        "embedded resource without properties",
        "type: object\nx-kubernetes-embedded-resource: true",
        [
            f"{V}.properties: Required value: must not be empty if x-kubernetes-embedded-resource is true "
            "without x-kubernetes-preserve-unknown-fields"
        ],
    ),
    (
        "embedded resource of the wrong type",
        "type: array\nx-kubernetes-embedded-resource: true\nx-kubernetes-preserve-unknown-fields: true",
        [f'{V}.type: Invalid value: "array": must be object if x-kubernetes-embedded-resource is true'],
    ),
    ("no type at the root", 'type: ""', [f"{V}.type: Required value: must not be empty at the root"]),
    ("a root that is no object", "type: integer", [f'{V}.type: Invalid value: "integer": must be object at the root']),
    (
        "types in value validations",
        "type: object\nproperties: {foo: {type: string}}\n"
        "allOf: [{properties: {foo: {type: string, title: t, nullable: true, additionalProperties: true}}}]",
        [
            f"{V}.allOf[0].properties[foo].type: Forbidden: must be empty to be structural",
            f"{V}.allOf[0].properties[foo].title: Forbidden: must be empty to be structural",
            f"{V}.allOf[0].properties[foo].nullable: Forbidden: must be false to be structural",
            f"{V}.allOf[0].properties[foo].additionalProperties: Forbidden: must be undefined to be structural",
        ],
    ),
    (
        "an invalid regular expression",
        "type: object\nproperties: {foo: {type: string, pattern: '+'}}",
        [
            f'{V}.properties[foo].pattern: Invalid value: "+": must be a valid regular expression, but isn\'t: '
            "error parsing regexp: missing argument to repetition operator: `+`"
        ],
    ),
    (
        "fields and items without types",
        "properties: {foo: {properties: {a: {}}}, bar: {items: {}}}",
        [
            f"{V}.properties[foo].properties[a].type: Required value: must not be empty for specified object fields",
            f"{V}.properties[bar].items.type: Required value: must not be empty for specified array items",
            f"{V}.type: Required value: must not be empty at the root",
        ],
    ),
    (
        "additionalProperties at the root",
        "type: object\nadditionalProperties: false",
        [f"{V}.additionalProperties: Forbidden: must not be used at the root"],
    ),
    (
        "value validations naming unspecified fields",
        "type: object\nproperties: {d: {type: array, items: {type: string}}}\nanyOf: [{properties: {f: {}}}]",
        [f"{V}.properties[f]: Required value: because it is defined in {V}.anyOf[0].properties[f]"],
    ),
    (
        "metadata restricting more than name and generateName",
        "type: object\nproperties: {metadata: {type: object, properties: {labels: {type: object}}}}",
        [
            f"{V}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, "
            "but metadata is implicitly specified"
        ],
    ),
    (
        "metadata under a junctor",
        "type: object\nproperties: {metadata: {type: object}}\nnot: {properties: {metadata: {}}}",
        [f"{V}.not.properties[metadata]: Forbidden: must not be specified in a nested context"],
    ),
    (
        "an array without items",
        "type: object\nproperties: {slice: {type: array}}",
        [f"{V}.properties[slice].items: Required value: must be specified"],
    ),
    (
        "items as a list",
        "type: object\nproperties: {slice: {type: array, items: [{type: string}]}}",
        [f"{V}.properties[slice].items: Forbidden: items must be a schema object and not an array"],
    ),
    (
        "the int-or-string patterns",
        (
            "type: object\nproperties:\n  a: {x-kubernetes-int-or-string: true}\n"
            "  b: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}\n"
            "  c: {x-kubernetes-int-or-string: true, "
            "allOf: [{anyOf: [{type: integer}, {type: string}]}, {pattern: abc}]}"
        ),
        [],
    ),
    (
        "metadata restricting name only",
        (
            "type: object\n"
            "properties: {metadata: {type: object, properties: {name: {type: string, pattern: '^[a-z]+$'}}}}"
        ),
        [],
    ),
    (
        "a default of the wrong type",
        "type: object\nproperties: {spec: {type: object, properties: {replicas: {type: integer, default: two}}}}",
        [
            f'{V}.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type '
            'integer: "string"'
        ],
    ),
    (
        "a default with fields the schema prunes",
        "type: object\nproperties: {spec: {type: object, properties: {a: {type: string}}, default: {a: x, b: y}}}",
        [f'{V}.properties[spec].default: Invalid value: {{"a":"x","b":"y"}}: must not have unknown fields'],
    ),
    (
        "a default in top-level metadata",
        "type: object\nproperties: {metadata: {type: object, properties: {name: {type: string, default: x}}}}",
        [f"{V}.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata"],
    ),
    (
        "a list-map without keys and with a nullable item",
        "type: object\nproperties: {l: {type: array, x-kubernetes-list-type: map, "
        "items: {type: object, nullable: true, properties: {k: {type: string}}}}}",
        [
            f"{V}.properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if "
            "x-kubernetes-list-type is map",
            f"{V}.properties[l].items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is map",
        ],
    ),
    (
        "a list-map key that is neither required nor defaulted",
        "type: object\nproperties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], "
        "items: {type: object, properties: {k: {type: string}}}}}",
        [
            f"{V}.properties[l].items.properties[k].default: Required value: this property is in "
            "x-kubernetes-list-map-keys, so it must have a default or be a required property"
        ],
    ),
    (
        "a set of granular objects",
        "type: object\nproperties: {s: {type: array, x-kubernetes-list-type: set, items: {type: object}}}",
        [
            f"{V}.properties[s].items.x-kubernetes-map-type: Invalid value: null: must be atomic as item of a list "
            "with x-kubernetes-list-type=set"
        ],
    ),
    (
        "properties and additionalProperties together",
        "type: object\nproperties: {spec: {type: object, properties: {a: {type: string}}, "
        "additionalProperties: {type: string}}}",
        [
            f"{V}.properties[spec].additionalProperties: Forbidden: "
            "additionalProperties and properties are mutual exclusive"
        ],
    ),
    (
        "uniqueItems",
        "type: object\nproperties: {a: {type: array, uniqueItems: true, items: {type: string}}}",
        [
            f"{V}.properties[a].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity "
            "becomes quadratic"
        ],
    ),
    (
        "$ref",
        "type: object\nproperties: {a: {$ref: '#/x'}}",
        [f"{V}.properties[a].$ref: Forbidden: $ref is not supported"],
    ),
    (
        "a rule without its expression",
        "type: object\nx-kubernetes-validations: [{rule: ' ', message: m}]",
        [f"{V}.x-kubernetes-validations[0].rule: Required value: rule is not specified"],
    ),
]


@pytest.mark.parametrize(("schema", "expected"), [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_schema_rules_and_messages_match_kube_apiserver(schema: str, expected: list[str]) -> None:
    # Two versions sharing the schema: kube-apiserver reports it once, at the top level.
    assert_errors(crd(yaml.safe_load(schema), versions=2), expected)


def test_a_schema_that_differs_per_version_is_reported_per_version() -> None:
    body = crd(versions=2)
    body["spec"]["versions"][1]["schema"]["openAPIV3Schema"] = {"type": "object", "properties": {"a": {}}}
    assert_errors(
        body,
        [
            "spec.versions[1].schema.openAPIV3Schema.properties[a].type: Required value: "
            "must not be empty for specified object fields"
        ],
    )


def test_status_subresource_restricts_the_root_of_the_schema() -> None:
    body = crd({"type": "object", "anyOf": [{"required": ["spec"]}], "properties": {"spec": {"type": "object"}}})
    body["spec"]["versions"][0]["subresources"] = {"status": {}}
    found = errors(body)
    assert len(found) == 1, found
    assert found[0].startswith(f"{V}: Invalid value: "), found
    assert found[0].endswith(
        "only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength "
        "Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example "
        "XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status "
        "subresource is enabled"
    )


def test_names_group_versions_and_columns() -> None:
    body = crd(group="example", names={"plural": "Foos", "kind": "Foo", "listKind": "Foo", "shortNames": ["f_"]})
    body["metadata"]["name"] = "foos.example"
    body["spec"]["versions"][0]["name"] = "V1"
    body["spec"]["versions"][0]["additionalPrinterColumns"] = [{"name": "Age", "type": "time", "jsonPath": "x"}]
    dns1035 = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    assert_errors(
        body,
        [
            'metadata.name: Invalid value: "foos.example": must be spec.names.plural+"."+spec.group',
            'spec.group: Invalid value: "example": should be a domain with at least one dot',
            f'spec.versions[0].name: Invalid value: "V1": {dns1035}',
            f'spec.version: Invalid value: "V1": {dns1035}',
            "spec.names.singular: Required value",
            f'spec.names.plural: Invalid value: "Foos": {dns1035}',
            f'spec.names.shortNames[0]: Invalid value: "f_": {dns1035}',
            'spec.names.listKind: Invalid value: "Foo": kind and listKind may not be the same',
            'spec.additionalPrinterColumns[0].type: Invalid value: "time": '
            "must be one of boolean,date,integer,number,string",
            'spec.additionalPrinterColumns[0].JSONPath: Invalid value: "x": must be a simple json path starting with .',
        ],
    )


def test_storage_versions_on_create_and_update() -> None:
    body = crd(versions=2)
    body["spec"]["versions"][1]["storage"] = True
    assert_errors(body, ["spec.versions: Invalid value: ", ": must have exactly one version marked as storage version"])

    old = crd(versions=2)
    old["status"] = {"storedVersions": ["v1"]}
    new = crd(versions=1)
    new["spec"]["versions"][0]["name"] = "v2"
    assert_errors(
        new,
        [
            'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage '
            "version, and must remain in spec.versions until a storage migration ensures no data remains persisted "
            "in v1 and removes v1 from status.storedVersions"
        ],
        old=old,
    )


def test_group_plural_scope_and_kind_are_immutable() -> None:
    old = crd()
    new = crd()
    new["spec"]["scope"] = "Cluster"
    new["spec"]["names"]["kind"] = "Bar"
    assert_errors(
        new,
        [
            'spec.scope: Invalid value: "Cluster": field is immutable',
            'spec.names.kind: Invalid value: "Bar": field is immutable',
        ],
        old=old,
    )


def test_missing_schema_protected_group_and_preserve_unknown_fields() -> None:
    body = crd(preserveUnknownFields=True)
    del body["spec"]["versions"][0]["schema"]
    body["spec"]["group"] = "tests.k8s.io"
    body["metadata"]["name"] = "foos.tests.k8s.io"
    assert_errors(
        body,
        [
            "spec.versions[0].schema.openAPIV3Schema: Required value",
            "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval "
            'annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111',
            "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
            "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ],
    )


def test_what_the_emulator_cannot_do_is_refused_by_name() -> None:
    body = crd(conversion={"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://x"}}})
    body["spec"]["versions"][0]["selectableFields"] = [{"jsonPath": ".spec.color"}]
    found = errors(body)
    assert any("conversion webhooks are not emulated" in e for e in found), found
    assert any("selectableFields are not emulated" in e for e in found), found


def test_errors_are_a_422_status_naming_every_cause() -> None:
    body = crd({"type": "object", "properties": {"metadata": {"type": "object", "description": "x"}}})
    with pytest.raises(ApiError) as raised:
        crds.validate_crd(body)
    status = raised.value.status()
    assert status["code"] == 422
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(
        'CustomResourceDefinition.apiextensions.k8s.io "foos.tests.example.com" is invalid: '
    )
    assert [c["field"] for c in status["details"]["causes"]] == [f"{V}.properties[metadata]"]
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("^[a-z]+$", None),
        ("abc\\z", None),
        ("(?=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("(abc", "error parsing regexp: missing closing ): `(abc`"),
        ("[abc", "error parsing regexp: missing closing ]: `[abc`"),
    ],
)
def test_patterns_are_checked_as_go_regexp_compiles_them(pattern: str, error: str | None) -> None:
    assert go_regexp_error(pattern) == error


def test_several_errors_are_aggregated_in_brackets_as_apimachinery_does() -> None:
    body = crd({"type": "object", "properties": {"a": {}, "b": {}}})
    with pytest.raises(ApiError) as raised:
        crds.validate_crd(body)
    message = raised.value.status()["message"]
    assert message == (
        'CustomResourceDefinition.apiextensions.k8s.io "foos.tests.example.com" is invalid: ['
        f"{V}.properties[a].type: Required value: must not be empty for specified object fields, "
        f"{V}.properties[b].type: Required value: must not be empty for specified object fields]"
    )


def test_a_shared_schema_is_restricted_when_any_version_has_status() -> None:
    body = crd(
        {"type": "object", "anyOf": [{"required": ["spec"]}], "properties": {"spec": {"type": "object"}}}, versions=2
    )
    body["spec"]["versions"][1]["subresources"] = {"status": {}}
    found = errors(body)
    assert len(found) == 1, found
    assert found[0].startswith(f"{V}: Invalid value: "), found


def test_a_null_schema_is_a_missing_schema() -> None:
    body = crd(versions=2)
    for version in body["spec"]["versions"]:
        version["schema"] = {"openAPIV3Schema": None}
    crds.crd_defaults(body)
    assert_errors(
        body,
        [
            "spec.versions[0].schema.openAPIV3Schema: Required value",
            "spec.versions[1].schema.openAPIV3Schema: Required value",
        ],
    )
