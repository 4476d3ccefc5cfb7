"""Custom resources validated against their CRD's schema, with kube-apiserver's messages.

Expected strings come from apiextensions-apiserver `pkg/apiserver/validation/validation_test.go`
(`TestValidateCustomResource`) and kube-openapi's message formats (`pkg/validation/errors/schema.go`,
`validate/schema_messages.go`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from atomesh.devstack.kube import schema
from atomesh.devstack.kube.field_errors import text

Obj = dict[str, Any]
INT_OR_STRING = {"x-kubernetes-int-or-string": True}
WITH_ANY_OF = {"nullable": True, "x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}
WITH_ALL_OF = {
    "nullable": True,
    "x-kubernetes-int-or-string": True,
    "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}],
}
ENUMS = {
    "type": "object",
    "required": ["nestedint", "nestedstring"],
    "properties": {
        "nestedint": {"type": "integer", "enum": [1, 2]},
        "nestedstring": {"type": "string", "enum": ["a", "b"]},
    },
}
ANY_OF = '<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)'
# kube-openapi then adds the errors of the best-matching failed alternative, chosen by counting passed
# checks; the emulator does not reproduce that choice, so these lines are the ones it leaves out.
BEST_FAILURE = 'field: Invalid value: "boolean": field in body must be of type integer: "boolean"'


def errors(value: Obj, field: Obj) -> list[str]:
    return sorted(text(c) for c in schema.validate(value, {"type": "object", "properties": {"field": field}}))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (INT_OR_STRING, None, ['field: Invalid value: "null": field in body must be of type integer,string: "null"']),
        (
            INT_OR_STRING,
            True,
            ['field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"'],
        ),
        (INT_OR_STRING, [], ['field: Invalid value: "array": field in body must be of type integer,string: "array"']),
        (INT_OR_STRING, 42, []),
        (
            WITH_ANY_OF,
            True,
            [ANY_OF, 'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"'],
        ),
        (
            WITH_ALL_OF,
            True,
            [
                '<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated',
                ANY_OF,
                'field: Invalid value: "boolean": field in body must be of type integer,string: "boolean"',
            ],
        ),
        (
            ENUMS,
            {},
            ["field.nestedint: Required value", "field.nestedstring: Required value"],
        ),
        (
            ENUMS,
            {"nestedint": "x", "nestedstring": True},
            [
                'field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string"',
                'field.nestedint: Unsupported value: "x": supported values: "1", "2"',
                'field.nestedstring: Invalid value: "boolean": '
                'field.nestedstring in body must be of type string: "boolean"',
                'field.nestedstring: Unsupported value: true: supported values: "a", "b"',
            ],
        ),
        (
            {"type": "object", "maxProperties": 2},
            {"a": 1, "b": 2, "c": 3},
            ["field: Too many: 3: must have at most 2 items"],
        ),
        (
            {"type": "array", "maxItems": 2, "items": {"type": "string"}},
            ["a", "b", "c"],
            ["field: Too many: 3: must have at most 2 items"],
        ),
        ({"type": "string", "maxLength": 2}, "abc", ["field: Too long: may not be more than 2 bytes"]),
    ],
)
def test_messages_match_kube_apiserver(field: Obj, value: Any, expected: list[str]) -> None:
    assert errors({"field": value}, field) == sorted(expected)
    assert BEST_FAILURE not in expected


@pytest.mark.parametrize(
    ("bounds", "value", "message"),
    [
        (
            {"minimum": 0, "exclusiveMinimum": True},
            0,
            "field: Invalid value: 0: field in body should be greater than 0",
        ),
        ({"minimum": 1}, 0, "field: Invalid value: 0: field in body should be greater than or equal to 1"),
        ({"maximum": 5, "exclusiveMaximum": True}, 5, "field: Invalid value: 5: field in body should be less than 5"),
        ({"maximum": 2.0}, 3, "field: Invalid value: 3: field in body should be less than or equal to 2"),
    ],
)
def test_bounds_say_whether_they_are_exclusive(bounds: Obj, value: int, message: str) -> None:
    assert errors({"field": value}, {"type": "integer", **bounds}) == [message]


def test_one_of_counts_the_alternatives_that_matched() -> None:
    field = {"type": "integer", "oneOf": [{"minimum": 1}, {"maximum": 10}]}
    assert errors({"field": 5}, field) == [
        '<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found 2 valid alternatives'
    ]
    assert errors({"field": 20}, field) == []
    none = {"type": "integer", "oneOf": [{"minimum": 10}, {"maximum": 0}]}
    assert (
        '<nil>: Invalid value: "": "field" must validate one and only one schema (oneOf). Found none valid'
        in errors({"field": 5}, none)
    )


def test_not_names_its_field() -> None:
    assert errors({"field": "a"}, {"type": "string", "not": {"enum": ["a"]}}) == [
        '<nil>: Invalid value: "": "field" must not validate the schema (not)'
    ]


NUMBERS = {
    "type": "object",
    "properties": {
        "intThirtyTwo": {"type": "integer", "format": "int32"},
        "intSixtyFour": {"type": "integer", "format": "int64"},
        "floatThreeTwo": {"type": "number", "format": "float"},
        "floatSixFour": {"type": "number", "format": "double"},
    },
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"intThirtyTwo": -(2**31), "intSixtyFour": -(2**63), "floatThreeTwo": -3.4028234663852886e38}, []),
        ({"intThirtyTwo": 2**31 - 1, "intSixtyFour": 2**63 - 1, "floatSixFour": 1.7976931348623157e308}, []),
        (
            {"intThirtyTwo": 2**31},
            ['<nil>: Invalid value: "": Checked value must be of type integer with format int32 in intThirtyTwo'],
        ),
        (
            {"floatThreeTwo": 3.4028234663852886e38 * 1.1},
            ['<nil>: Invalid value: "": Checked value must be of type number with format float in floatThreeTwo'],
        ),
    ],
)
def test_numeric_formats_bound_their_values(value: Obj, expected: list[str]) -> None:
    assert sorted(text(c) for c in schema.validate(value, NUMBERS)) == sorted(expected)


def test_a_fraction_for_an_integer_is_also_out_of_its_range() -> None:
    assert errors({"field": 1.2}, {"type": "integer"}) == [
        '<nil>: Invalid value: "": Checked value must be of type integer (default format) in field',
        'field: Invalid value: "number": field in body must be of type integer: "number"',
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ({"type": "string", "format": "k8s-long-name"}, "a.-", 'must be of type k8s-long-name: "a.-"'),
        ({"type": "string", "format": "k8s-short-name"}, "a-", 'must be of type k8s-short-name: "a-"'),
        ({"type": "string", "format": "date-time"}, "2024-13-01T00:00:00Z", "must be of type date-time"),
        ({"type": "string", "format": "date-time"}, "2024-02-01 00:00:00", "must be of type date-time"),
        ({"type": "string", "format": "date"}, "2024-2-1", "must be of type date"),
        ({"type": "string", "format": "byte"}, "not base64!", "must be of type byte"),
        ({"type": "string", "format": "email"}, "a@b.c", "the email format is not emulated"),
    ],
)
def test_string_formats_are_checked_or_refused(field: Obj, value: str, expected: str) -> None:
    found = errors({"field": value}, field)
    assert len(found) == 1, found
    assert found[0].startswith(f"field: Invalid value: {json.dumps(value)}: "), found
    assert expected in found[0]


@pytest.mark.parametrize(
    ("format_", "value"),
    [
        ("date-time", "2024-02-01T10:20:30Z"),
        ("date-time", "2024-02-01t10:20:30.123+02:00"),
        ("date", "2024-02-29"),
        ("byte", "aGVsbG8="),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000"),
        ("k8s-long-name", "a.b-c"),
        ("ipv4", "10.0.0.1"),
        ("cidr", "10.0.0.0/8"),
        ("my-own-format", "anything"),
    ],
)
def test_valid_strings_and_unsupported_formats_pass(format_: str, value: str) -> None:
    assert errors({"field": value}, {"type": "string", "format": format_}) == []


def test_a_string_reports_only_its_first_length_or_pattern_failure() -> None:
    assert errors({"field": "abcd"}, {"type": "string", "maxLength": 2, "pattern": "^x"}) == [
        "field: Too long: may not be more than 2 bytes"
    ]


def test_custom_resource_type_errors_show_the_type_as_kube_openapi_does() -> None:
    # Expected strings from apiextensions-apiserver pkg/apiserver/validation/validation_test.go.
    object_field = {"type": "object", "properties": {"field": {"type": "object"}}}
    int_or_string = {"type": "object", "properties": {"field": {"x-kubernetes-int-or-string": True}}}
    assert [text(c) for c in schema.validate({"field": "foo"}, object_field)] == [
        'field: Invalid value: "string": field in body must be of type object: "string"'
    ]
    assert [text(c) for c in schema.validate({"field": None}, object_field)] == [
        'field: Invalid value: "null": field in body must be of type object: "null"'
    ]
    assert [text(c) for c in schema.validate({"field": 1.2}, int_or_string)] == [
        'field: Invalid value: "number": field in body must be of type integer,string: "number"'
    ]
