"""OpenAPI v3 schemas turned into v2 ones as kube-apiserver's ToStructuralOpenAPIV2 does."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.openapi_v2 import PROTOBUF, media_type_for, to_v2


@pytest.mark.parametrize(
    ("v3", "v2"),
    [
        ({"type": "string", "oneOf": [{"minLength": 1}], "anyOf": [{}], "allOf": [{}], "not": {}}, {"type": "string"}),
        ({"type": "object", "nullable": True, "properties": {"a": {"type": "string"}}}, {}),
        ({"type": "array", "nullable": True, "items": {"type": "string"}}, {}),
        (
            {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"a": {}}},
            {"x-kubernetes-preserve-unknown-fields": True},
        ),
        ({"type": "array"}, {}),
        (
            {
                "type": "object",
                "required": ["a", "b"],
                "properties": {"a": {"type": "string", "nullable": True}, "b": {"type": "integer"}},
            },
            {"type": "object", "required": ["b"], "properties": {"a": {}, "b": {"type": "integer"}}},
        ),
        (
            {"type": "object", "required": ["a"], "properties": {"a": {"type": "string", "nullable": True}}},
            {"type": "object", "properties": {"a": {}}},
        ),
        (
            {"type": "object", "required": ["x"], "additionalProperties": {"type": "string", "nullable": True}},
            {"type": "object", "additionalProperties": {}},
        ),
        (
            {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string", "oneOf": [{}]}}}},
            {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "string"}}}},
        ),
    ],
)
def test_to_v2(v3: dict[str, Any], v2: dict[str, Any]) -> None:
    assert to_v2(v3) == v2


@pytest.mark.parametrize("accept", ["", "application/json", "*/*", "application/json;q=0.9, */*;q=0.1"])
def test_json_is_served(accept: str) -> None:
    assert media_type_for(accept) == "application/json"


def test_protobuf_and_other_media_types() -> None:
    assert media_type_for(PROTOBUF) == PROTOBUF
    assert media_type_for(f"{PROTOBUF}, application/json") == PROTOBUF  # the first acceptable one
    with pytest.raises(ApiError) as caught:
        media_type_for("application/yaml")
    assert caught.value.code == 406
