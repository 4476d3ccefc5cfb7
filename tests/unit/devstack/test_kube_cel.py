"""CEL `x-kubernetes-validations` in the Kubernetes API emulator: compiling rules when a CRD is written, and
evaluating them on create, update and the status subresource with kube-apiserver's messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from atomesh.devstack.kube import builtins, cel, fields
from atomesh.devstack.kube.cluster import Cluster
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.resources import Registry, ResourceInfo
from atomesh.devstack.kube.store import Store

RULES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "x-kubernetes-validations": [
                {"rule": "self.low <= self.high", "message": "low must not exceed high"},
                {
                    "rule": "self.size % 2 == 0",
                    "messageExpression": "'size ' + string(self.size) + ' is odd'",
                },
                {"rule": "self.replicas >= 0", "fieldPath": ".replicas", "reason": "FieldValueForbidden"},
                {
                    "rule": "!has(self.tags) || self.tags.all(t, self.tags.exists_one(u, u == t))",
                    "reason": "FieldValueDuplicate",
                    "fieldPath": ".tags",
                },
                {"rule": "self.owner == oldSelf.owner", "message": "owner is immutable"},
            ],
            "properties": {
                "low": {"type": "integer", "default": 0},
                "high": {"type": "integer", "default": 10},
                "size": {"type": "integer", "default": 2},
                "replicas": {"type": "integer", "default": 1},
                "owner": {"type": "string", "default": "me"},
                "tags": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
                "name": {
                    "type": "string",
                    "x-kubernetes-validations": [{"rule": "self.startsWith('w-')"}],
                },
            },
        },
        "status": {
            "type": "object",
            "properties": {"phase": {"type": "string"}},
            "x-kubernetes-validations": [
                {"rule": "!has(self.phase) || self.phase in ['Ready', 'Failed']", "message": "unknown phase"}
            ],
        },
    },
}


def _crd(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def _cluster() -> tuple[Cluster, Registry]:
    registry = Registry()
    for info in builtins.builtin_resources():
        registry.add(info)
    cluster = Cluster(Store(history_limit=100), registry)
    namespaces = registry.get("", "v1", "namespaces")
    assert namespaces is not None
    cluster.create(namespaces, "", {"metadata": {"name": "default"}})
    return cluster, registry


def _crds(registry: Registry) -> ResourceInfo:
    info = registry.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert info is not None
    return info


@pytest.fixture
def widgets() -> tuple[Cluster, ResourceInfo]:
    cluster, registry = _cluster()
    cluster.create(_crds(registry), "", _crd(RULES))
    info = registry.get("example.com", "v1", "widgets")
    assert info is not None
    return cluster, info


def _widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def _messages(error: ApiError) -> list[str]:
    return [f"{c['field']}: {c['message']}" for c in error.details["causes"]]


def test_valid_objects_pass_every_rule(widgets: tuple[Cluster, ResourceInfo]) -> None:
    cluster, info = widgets
    created = cluster.create(info, "default", _widget(name="w-1", tags=["a", "b"]))
    assert created["spec"]["size"] == 2


def test_rule_message_message_expression_field_path_and_reason(widgets: tuple[Cluster, ResourceInfo]) -> None:
    cluster, info = widgets
    with pytest.raises(ApiError) as caught:
        cluster.create(info, "default", _widget(low=5, high=1, size=3, replicas=-1, tags=["a", "a"], name="x"))
    error = caught.value
    assert error.code == 422
    assert sorted(_messages(error)) == sorted(
        [
            'spec: Invalid value: "object": low must not exceed high',
            'spec: Invalid value: "object": size 3 is odd',
            "spec.replicas: Forbidden: failed rule: self.replicas >= 0",
            'spec.tags: Duplicate value: "object"',
            "spec.name: Invalid value: \"string\": failed rule: self.startsWith('w-')",
        ]
    )
    reasons = {c["field"]: c["reason"] for c in error.details["causes"]}
    assert reasons["spec.replicas"] == "FieldValueForbidden"
    assert reasons["spec.tags"] == "FieldValueDuplicate"
    assert error.message.startswith('Widget.example.com "w" is invalid: ')


def test_transition_rules_run_only_on_update(widgets: tuple[Cluster, ResourceInfo]) -> None:
    cluster, info = widgets
    created = cluster.create(info, "default", _widget(owner="alice"))  # no oldSelf on create: the rule is skipped
    changed = copy.deepcopy(created)
    changed["spec"]["owner"] = "bob"
    with pytest.raises(ApiError) as caught:
        cluster.replace(info, "default", "w", changed, None)
    assert _messages(caught.value) == ['spec: Invalid value: "object": owner is immutable']
    changed["spec"]["owner"] = "alice"
    changed["spec"]["size"] = 4
    assert cluster.replace(info, "default", "w", changed, None)["spec"]["size"] == 4


def test_status_subresource_rules(widgets: tuple[Cluster, ResourceInfo]) -> None:
    cluster, info = widgets
    created = cluster.create(info, "default", _widget())
    with pytest.raises(ApiError) as caught:
        cluster.replace(info, "default", "w", {**created, "status": {"phase": "Lost"}}, "status")
    assert _messages(caught.value) == ['status: Invalid value: "object": unknown phase']
    updated = cluster.replace(info, "default", "w", {**created, "status": {"phase": "Ready"}}, "status")
    assert updated["status"] == {"phase": "Ready"}


def test_unchanged_values_are_ratcheted(widgets: tuple[Cluster, ResourceInfo]) -> None:
    """A rule added after an object was stored does not block updates that leave the failing value alone."""
    cluster, info = widgets
    created = cluster.create(info, "default", _widget(size=4))
    stricter = copy.deepcopy(RULES)
    stricter["properties"]["spec"]["properties"]["size"]["x-kubernetes-validations"] = [{"rule": "self > 10"}]
    crds_info = cluster.info_for(("apiextensions.k8s.io", "customresourcedefinitions"))
    assert crds_info is not None
    crd = cluster.get(crds_info, "", "widgets.example.com").obj
    cluster.replace(crds_info, "", "widgets.example.com", {**crd, **_crd(stricter), "metadata": crd["metadata"]}, None)
    info = cluster.info_for(("example.com", "widgets")) or info
    labelled = copy.deepcopy(created)
    labelled["metadata"]["labels"] = {"a": "b"}
    check = fields.FieldCheck()
    cluster.replace(info, "default", "w", labelled, None, check)  # size unchanged: only a warning
    assert check.warnings == ['spec.size: Invalid value: "integer": failed rule: self > 10']
    labelled["spec"]["size"] = 6
    with pytest.raises(ApiError) as caught:
        cluster.replace(info, "default", "w", labelled, None)
    assert _messages(caught.value) == ['spec.size: Invalid value: "integer": failed rule: self > 10']


def test_runtime_errors_are_reported_with_the_rule() -> None:
    cluster, registry = _cluster()
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "x-kubernetes-validations": [{"rule": "self.a / self.b > 0"}, {"rule": "self.a > 0"}],
            }
        },
    }
    cluster.create(_crds(registry), "", _crd(schema))
    info = registry.get("example.com", "v1", "widgets")
    assert info is not None
    with pytest.raises(ApiError) as caught:
        cluster.create(info, "default", _widget(a=1, b=0))
    assert _messages(caught.value) == [
        'spec: Invalid value: "object": division by zero evaluating rule: self.a / self.b > 0'
    ]
    with pytest.raises(ApiError) as caught:
        cluster.create(info, "default", _widget(b=1))
    assert _messages(caught.value) == [
        'spec: Invalid value: "object": no such key: a evaluating rule: self.a / self.b > 0',
        'spec: Invalid value: "object": no such key: a evaluating rule: self.a > 0',
    ]


def test_schema_errors_block_cel(widgets: tuple[Cluster, ResourceInfo]) -> None:
    cluster, info = widgets
    with pytest.raises(ApiError) as caught:
        cluster.create(info, "default", _widget(low="x", high=1))
    messages = _messages(caught.value)
    assert messages[-1] == (
        '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; '
        "correct the existing errors to complete validation"
    )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"rule": "self.size >"},
            "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "
            'apiextensions.ValidationRule{Rule:"self.size >", Message:"", MessageExpression:"", '
            'Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", OptionalOldSelf:(*bool)(nil)}: '
            "compilation failed: ERROR: <input>:1:12: Syntax error: mismatched input '<EOF>' expecting",
        ),
        (
            {"rule": "self.sise > 1"},
            'x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:"self.sise > 1"',
        ),
        ({"rule": "self.size + 1"}, "cel expression must evaluate to a bool"),
        (
            {"rule": "true", "messageExpression": "1"},
            "x-kubernetes-validations[0].messageExpression: Invalid value: apiextensions.ValidationRule{",
        ),
        ({"rule": "true", "reason": "Nope"}, 'x-kubernetes-validations[0].reason: Unsupported value: "Nope"'),
        ({"rule": "true", "fieldPath": ".nope"}, 'fieldPath: Invalid value: ".nope": fieldPath must be a valid path'),
        ({"rule": "isURL(self.name)"}, "not emulated by this development API server: the Kubernetes CEL library"),
        ({"rule": "self.size == oldSelf.size", "optionalOldSelf": True}, "optionalOldSelf"),
    ],
)
def test_crds_with_bad_rules_are_rejected(rule: dict[str, Any], expected: str) -> None:
    cluster, registry = _cluster()
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"size": {"type": "integer"}, "name": {"type": "string"}},
                "x-kubernetes-validations": [rule],
            }
        },
    }
    with pytest.raises(ApiError) as caught:
        cluster.create(_crds(registry), "", _crd(schema))
    assert caught.value.code == 422
    assert expected in caught.value.message, caught.value.message


def test_old_self_under_a_plain_list_is_rejected() -> None:
    cluster, registry = _cluster()
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]},
                    }
                },
            }
        },
    }
    with pytest.raises(ApiError) as caught:
        cluster.create(_crds(registry), "", _crd(schema))
    assert "oldSelf cannot be used on the uncorrelatable portion of the schema within" in caught.value.message


def test_property_names_are_escaped_and_unknown_fields_hidden() -> None:
    assert cel.escape("namespace") == "__namespace__"
    assert cel.escape("x-prop") == "x__dash__prop"
    assert cel.escape("redact__d") == "redact__underscores__d"
    assert cel.escape("a.b/c") == "a__dot__b__slash__c"
    assert cel.escape("1a") is None
    schema = {
        "type": "object",
        "properties": {"x-prop": {"type": "number"}},
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert cel.to_value({"x-prop": 1, "extra": 2}, schema) == {"x__dash__prop": 1.0}


def test_rules_on_scalars_are_type_checked() -> None:
    """Scalars, lists and maps have their CEL types; objects are map(string, dyn) (fields are checked by name)."""
    size = {"type": "integer"}
    assert "cel expression must evaluate to a bool" in cel.compile_expression("self", size, want="bool").error
    wrong = cel.compile_expression("self == 'a'", size, want="bool").error
    assert wrong.startswith("compilation failed: ERROR: <input>:1:6: found no matching overload for '_==_'")
    names = {"type": "array", "items": {"type": "string"}}
    assert cel.compile_expression("self.all(n, n.size() < 64)", names, want="bool").program is not None
    assert "found no matching overload" in cel.compile_expression("self.all(n, n > 1)", names, want="bool").error


def test_message_expression_falls_back_to_the_message() -> None:
    """A messageExpression that fails at runtime or yields an empty string gives way to message (or the default)."""
    cluster, registry = _cluster()
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"size": {"type": "integer"}},
                "x-kubernetes-validations": [
                    {
                        "rule": "self.size > 1",
                        "message": "size too small",
                        "messageExpression": "string(10 / (self.size - 1))",
                    },
                    {"rule": "self.size > 2", "messageExpression": "'  '"},
                ],
            }
        },
    }
    cluster.create(_crds(registry), "", _crd(schema))
    info = registry.get("example.com", "v1", "widgets")
    assert info is not None
    with pytest.raises(ApiError) as caught:
        cluster.create(info, "default", _widget(size=1))
    assert _messages(caught.value) == [
        'spec: Invalid value: "object": size too small',
        'spec: Invalid value: "object": failed rule: self.size > 2',
    ]


def test_list_type_map_items_keep_their_old_value_by_key() -> None:
    """Transition rules on items of a list-type map list compare with the old item of the same key."""
    cluster, registry = _cluster()
    item = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "image": {"type": "string"}},
        "x-kubernetes-validations": [{"rule": "self.image == oldSelf.image", "message": "image is immutable"}],
    }
    ports = {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"], "items": item}
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"items": ports}}}}
    cluster.create(_crds(registry), "", _crd(schema))
    info = registry.get("example.com", "v1", "widgets")
    assert info is not None
    created = cluster.create(info, "default", _widget(items=[{"name": "a", "image": "x"}]))
    reordered = copy.deepcopy(created)
    reordered["spec"]["items"] = [{"name": "b", "image": "y"}, {"name": "a", "image": "x"}]  # a new item: no old
    stored = cluster.replace(info, "default", "w", reordered, None)
    changed = copy.deepcopy(stored)
    changed["spec"]["items"][1]["image"] = "z"
    with pytest.raises(ApiError) as caught:
        cluster.replace(info, "default", "w", changed, None)
    assert _messages(caught.value) == ['spec.items[1]: Invalid value: "object": image is immutable']


def test_fields_of_objects_are_type_checked_at_their_columns() -> None:
    """Objects are map(string, dyn) in cel-cpp; the fields a `self.a.b` chain ends on get their declared types."""
    spec = {
        "type": "object",
        "properties": {
            "size": {"type": "integer"},
            "name": {"type": "string"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    wrong = cel.compile_expression("self.size == 'a'", spec, want="bool").error
    assert wrong == (
        "compilation failed: ERROR: <input>:1:11: found no matching overload for '_==_' applied to '(int, string)'"
        "\n | self.size == 'a'\n | ..........^"
    )
    assert "applied to '(string, int)'" in cel.compile_expression("self.name.startsWith(1)", spec, want="bool").error
    assert "applied to '(string, int)'" in cel.compile_expression("self.labels.x == 1", spec, want="bool").error
    assert cel.compile_expression("self.name", spec, want="bool").error == "cel expression must evaluate to a bool"
    assert cel.compile_expression("has(self.size) && self.size > 1", spec, want="bool").program is not None
    syntax = cel.compile_expression("self.sise >", spec, want="bool").error
    assert syntax.startswith("compilation failed: ERROR: <input>:1:12: Syntax error: mismatched input '<EOF>'")


def test_comprehension_variables_are_typed_and_their_fields_checked() -> None:
    agents = {
        "type": "array",
        "maxItems": 10,
        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    spec = {"type": "object", "properties": {"agents": agents}}
    wrong = cel.compile_expression("self.agents.all(a, a.name == 1)", spec, want="bool").error
    assert "ERROR: <input>:1:27: found no matching overload for '_==_' applied to '(string, int)'" in wrong
    typo = cel.compile_expression("self.agents.all(a, a.nmae != '')", spec, want="bool").error
    assert "ERROR: <input>:1:21: undefined field 'nmae'" in typo
    unique = "self.all(a, self.exists_one(b, b.name == a.name))"
    assert cel.compile_expression(unique, agents, want="bool").program is not None
