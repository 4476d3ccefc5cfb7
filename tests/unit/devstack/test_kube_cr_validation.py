"""Custom resources validated against their CRD's schema, with kube-apiserver's messages.

Expected strings come from apiextensions-apiserver `pkg/apiserver/validation/validation_test.go`
(`TestValidateCustomResource`) and kube-openapi's message formats (`pkg/validation/errors/schema.go`,
`validate/schema_messages.go`).
"""

from __future__ import annotations

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
