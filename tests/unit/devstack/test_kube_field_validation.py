"""Field validation of the Kubernetes API emulator, pure parts: which fields are unknown, duplicate
detection, the directive and what each directive answers."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.devstack.kube import fields
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.resources import ResourceInfo

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer"},
                "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "port": {"x-kubernetes-int-or-string": True},
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object", "properties": {}}},
                },
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    },
}
WIDGET = ResourceInfo("example.com", "v1", "widgets", "widget", "Widget", builtin=False, schema=SCHEMA)
CONFIGMAP = ResourceInfo("", "v1", "configmaps", "configmap", "ConfigMap")
WIDGET_DOC = {"apiVersion": "example.com/v1", "kind": "Widget"}


def _widget(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**WIDGET_DOC, "metadata": {"name": "w"}, "spec": spec, **extra}


def test_unknown_fields_follow_the_structural_schema() -> None:
    obj = _widget(
        {
            "size": 1,
            "sise": 2,
            "items": [{"name": "a"}, {"name": "b", "nmae": "c"}],
            "labels": {"any": "key"},
            "free": {"anything": {"goes": 1}},
            "port": "http",
            "template": {"apiVersion": "v1", "kind": "X", "metadata": {"name": "t"}, "spec": {"x": 1}},
        },
        status={"phase": "Ready", "extra": 1},
        top=1,
    )
    assert fields.unknown_fields(obj, WIDGET) == [
        "spec.sise",
        "spec.items[1].nmae",
        "spec.template.spec.x",
        "status.extra",
        "top",
    ]


def test_known_and_system_metadata_is_not_flagged_but_unknown_metadata_is() -> None:
    meta = {
        "name": "w",
        "namespace": "default",
        "labels": {},
        "annotations": {},
        "finalizers": [],
        "ownerReferences": [],
        "managedFields": [],
        "resourceVersion": "1",
        "uid": "u",
        "generation": 1,
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "clusterName": "gone-since-1.25",
        "lables": {"a": "b"},
    }
    obj = {**_widget({"size": 1}), "metadata": meta}
    assert fields.unknown_fields(obj, WIDGET) == ["metadata.clusterName", "metadata.lables"]
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {}}
    assert fields.unknown_fields(configmap, CONFIGMAP) == ["metadata.clusterName", "metadata.lables"]


def test_builtin_kinds_check_top_level_fields_only() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}, "dta": {}, "spec": {}}
    assert fields.unknown_fields(cm, CONFIGMAP) == ["dta", "spec"]
    pod = ResourceInfo("", "v1", "pods", "pod", "Pod")
    assert fields.unknown_fields({"metadata": {}, "spec": {"anything": 1}, "status": {}}, pod) == []


def test_prune_drops_unknown_metadata_and_builtin_top_level_fields() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "lables": {}}, "data": {}, "dta": 1}
    fields.prune(cm, CONFIGMAP)
    assert cm == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}


def test_loads_reports_duplicate_fields_with_their_path() -> None:
    value, duplicates = fields.loads(b'{"a": 1, "a": 2, "s": {"l": [{"x": 1, "x": 3, "y": 0}]}, "t": {}}')
    assert value == {"a": 2, "s": {"l": [{"x": 3, "y": 0}]}, "t": {}}
    assert type(value["s"]["l"][0]) is dict
    assert duplicates == ["a", "s.l[0].x"]
    assert fields.loads(b'{"a": {"b": [1]}}') == ({"a": {"b": [1]}}, [])
    with pytest.raises(ValueError):
        fields.loads(b"{")


def test_directive_defaults_to_warn_and_rejects_other_values() -> None:
    assert fields.directive(None, "CreateOptions") == fields.WARN
    assert fields.directive("", "CreateOptions") == fields.WARN
    assert fields.directive("Strict", "CreateOptions") == fields.STRICT
    with pytest.raises(ApiError) as bad:
        fields.directive("strict", "PatchOptions")
    assert bad.value.code == 422
    assert bad.value.message == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": '
        'supported values: "Ignore", "Strict", "Warn"'
    )


def test_strict_create_lists_every_problem_like_kube_apiserver() -> None:
    check = fields.FieldCheck(fields.STRICT, fields.CREATE, ["spec.size"])
    with pytest.raises(ApiError) as bad:
        check.report(WIDGET, _widget({"size": 1, "foo": 1, "bar": 2}))
    assert bad.value.code == 400
    assert bad.value.reason == "BadRequest"
    assert bad.value.message == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
        'duplicate field "spec.size", unknown field "spec.foo", unknown field "spec.bar"'
    )


def test_strict_patch_is_invalid_on_the_patch_field() -> None:
    check = fields.FieldCheck(fields.STRICT, fields.PATCH, patch_body={"spec": {"foo": 1}})
    with pytest.raises(ApiError) as bad:
        check.report(WIDGET, _widget({"size": 1, "foo": 1}), previous=_widget({"size": 1}))
    assert bad.value.code == 422
    assert bad.value.details["causes"][0]["field"] == "patch"
    assert bad.value.message.endswith('strict decoding error: unknown field "spec.foo"')


def test_warn_collects_warnings_and_ignore_says_nothing() -> None:
    warn = fields.FieldCheck(fields.WARN, fields.UPDATE)
    warn.report(WIDGET, _widget({"size": 1, "foo": 1, "stale": 1}), previous=_widget({"size": 1, "stale": 1}))
    assert warn.warnings == ['unknown field "spec.foo"']
    ignore = fields.FieldCheck(fields.IGNORE, fields.CREATE, ["spec.size"])
    ignore.report(WIDGET, _widget({"size": 1, "foo": 1}))
    assert ignore.warnings == []


def test_server_side_apply_fails_on_unknown_fields_whatever_the_directive() -> None:
    for directive in fields.DIRECTIVES:
        with pytest.raises(ApiError) as bad:
            fields.FieldCheck(directive, fields.APPLY).check_apply(WIDGET, _widget({"foo": 1}), "ns", "w")
        assert bad.value.code == 500
        assert bad.value.message == (
            "failed to create typed patch object (ns/w; example.com/v1, Kind=Widget): "
            ".spec.foo: field not declared in schema"
        )
    check = fields.FieldCheck(fields.WARN, fields.APPLY, ["spec.size"])
    check.check_apply(WIDGET, _widget({"size": 1}), "ns", "w")
    assert check.warnings == ['duplicate field "spec.size"']


def test_warning_header_escapes_quotes_and_backslashes() -> None:
    assert fields.warning_header('unknown field "spec.a\\b"') == '299 - "unknown field \\"spec.a\\\\b\\""'
