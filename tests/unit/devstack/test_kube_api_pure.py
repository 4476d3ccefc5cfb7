"""Pure parts of the Kubernetes API emulator: patches, selectors, structural schemas, JSONPath."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.devstack.kube import jsonpath, patch, schema
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.printers import human_duration
from atomesh.devstack.kube.selectors import parse_field_selector, parse_label_selector
from atomesh.devstack.kube.store import Store, Watcher


def test_merge_patch_is_rfc7386() -> None:
    target = {"a": {"b": 1, "c": 2}, "l": [1, 2], "k": "v"}
    assert patch.merge_patch(target, {"a": {"b": None, "d": 3}, "l": [3], "k": None}) == {
        "a": {"c": 2, "d": 3},
        "l": [3],
    }
    assert target == {"a": {"b": 1, "c": 2}, "l": [1, 2], "k": "v"}, "inputs are never mutated"


def test_json_patch_ops_escapes_and_test() -> None:
    doc = {"metadata": {"annotations": {"a/b": "1"}, "finalizers": ["x"]}}
    ops = [
        {"op": "test", "path": "/metadata/annotations/a~1b", "value": "1"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "y"},
        {"op": "move", "from": "/metadata/annotations/a~1b", "path": "/metadata/annotations/c~0d"},
        {"op": "copy", "from": "/metadata/finalizers/0", "path": "/metadata/finalizers/0"},
        {"op": "remove", "path": "/metadata/finalizers/1"},
    ]
    assert patch.json_patch(doc, ops) == {"metadata": {"annotations": {"c~d": "1"}, "finalizers": ["x", "y"]}}
    with pytest.raises(patch.PatchError):
        patch.json_patch(doc, [{"op": "test", "path": "/metadata/finalizers", "value": []}])
    with pytest.raises(patch.PatchError):
        patch.json_patch(doc, [{"op": "replace", "path": "/missing", "value": 1}])


def test_strategic_merge_keys_and_directives() -> None:
    pod: dict[str, Any] = {
        "metadata": {"finalizers": ["a"]},
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "x:1",
                    "env": [{"name": "A", "value": "1"}],
                    "ports": [{"containerPort": 80}],
                },
                {"name": "side", "image": "y:1"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
    }
    result = patch.strategic_merge(
        pod,
        {
            "metadata": {"finalizers": ["b"]},
            "spec": {
                "containers": [
                    {"name": "main", "env": [{"name": "B", "value": "2"}], "ports": [{"containerPort": 81}]},
                    {"name": "side", "$patch": "delete"},
                ],
                "$setElementOrder/volumes": [{"name": "w"}, {"name": "v"}],
                "volumes": [{"name": "w", "emptyDir": {}}],
            },
        },
    )
    main = result["spec"]["containers"][0]
    assert result["metadata"]["finalizers"] == ["a", "b"]
    assert [c["name"] for c in result["spec"]["containers"]] == ["main"]
    assert main["image"] == "x:1"
    assert [e["name"] for e in main["env"]] == ["A", "B"]
    assert [p["containerPort"] for p in main["ports"]] == [80, 81]
    assert [v["name"] for v in result["spec"]["volumes"]] == ["w", "v"]
    removed = patch.strategic_merge(result, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert removed["metadata"]["finalizers"] == ["b"]
    replaced = patch.strategic_merge(
        result, {"spec": {"containers": [{"name": "new", "image": "z"}, {"$patch": "replace"}]}}
    )
    assert replaced["spec"]["containers"] == [{"name": "new", "image": "z"}]


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("a=1", {"a": "1"}, True),
        ("a==1,b!=2", {"a": "1", "b": "3"}, True),
        ("a in (1, 2),!c", {"a": "2"}, True),
        ("a notin (1,2)", {"a": "1"}, False),
        ("a", {}, False),
        ("!a", {}, True),
        ("app.kubernetes.io/name=x", {"app.kubernetes.io/name": "x"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    predicate = parse_label_selector(selector)
    assert predicate is not None
    assert predicate({"metadata": {"labels": labels}}) is expected


def test_field_selectors_and_unknown_fields() -> None:
    predicate = parse_field_selector(
        "metadata.name=x,status.phase!=Failed", {"status.phase": lambda o: o["status"]["phase"]}
    )
    assert predicate is not None
    assert predicate({"metadata": {"name": "x"}, "status": {"phase": "Running"}})
    assert not predicate({"metadata": {"name": "x"}, "status": {"phase": "Failed"}})
    with pytest.raises(ApiError) as bad:
        parse_field_selector("spec.size=1", {})
    assert bad.value.code == 400


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 0, "maximum": 10},
                "mode": {"type": "string", "enum": ["a", "b"], "default": "a"},
                "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
                "port": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            },
        },
    },
}


def test_schema_prunes_defaults_and_keeps_metadata() -> None:
    obj = {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "n", "labels": {"a": "b"}},
        "spec": {"size": 1, "junk": 1, "free": {"any": {"thing": 1}}},
        "extra": 1,
    }
    result = schema.prune_and_default(obj, SCHEMA, root=True)
    assert result == {
        "apiVersion": "x/v1",
        "kind": "X",
        "metadata": {"name": "n", "labels": {"a": "b"}},
        "spec": {"size": 1, "mode": "a", "free": {"any": {"thing": 1}}},
    }
    assert schema.validate(result, SCHEMA) == []


def test_schema_validation_names_every_field() -> None:
    obj = {"spec": {"size": 11, "mode": "c", "name": "ABCDEFG", "port": 1.5, "tags": ["a", "b", 3]}}
    fields = {c["field"] for c in schema.validate(obj, SCHEMA)}
    assert fields == {"spec.size", "spec.mode", "spec.name", "spec.port", "spec.tags", "spec.tags[2]"}
    assert {c["field"] for c in schema.validate({"spec": {}}, SCHEMA)} == {"spec.size"}
    assert schema.validate({"spec": {"size": True}}, SCHEMA)[0]["field"] == "spec.size", "a boolean is no integer"


def test_jsonpath_printer_column_subset() -> None:
    obj = {
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Stalled", "status": "False"}]},
        "m": {"a.b": 1},
    }
    assert jsonpath.find(obj, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert jsonpath.find(obj, ".status.conditions[*].type") == ["Ready", "Stalled"]
    assert jsonpath.find(obj, ".status.conditions[-1].type") == ["Stalled"]
    assert jsonpath.find(obj, "{.m['a.b']}") == [1]
    assert jsonpath.find(obj, ".missing.field") == []


def test_human_duration_matches_kubectl() -> None:
    assert [human_duration(s) for s in (5, 119, 150, 600, 3 * 3600 + 60, 30 * 3600, 3 * 86400 + 3600, 400 * 86400)] == [
        "5s",
        "119s",
        "2m30s",
        "10m",
        "3h1m",
        "30h",
        "3d1h",
        "400d",
    ]


def test_store_history_and_watcher_translation() -> None:
    store = Store(history_limit=3)
    gr = ("", "configmaps")
    watcher = Watcher(gr, "ns", lambda o: o["metadata"].get("labels", {}).get("x") == "1")
    store.subscribe(watcher)
    first = store.put(gr, {"metadata": {"name": "a", "namespace": "ns", "uid": "u"}}, "ADDED")
    labelled = {"metadata": {"name": "a", "namespace": "ns", "uid": "u", "labels": {"x": "1"}}}
    store.put(gr, labelled, "MODIFIED", prev=first.obj)
    store.put(gr, {"metadata": {"name": "a", "namespace": "ns", "uid": "u"}}, "MODIFIED", prev=labelled)
    seen = []
    while not watcher.queue.empty():
        type_, event = watcher.queue.get_nowait()
        seen.append((type_, event.rv))
    assert seen == [("ADDED", 2), ("DELETED", 3)], "selector watchers see objects enter and leave their view"
    store.put(gr, {"metadata": {"name": "b", "namespace": "ns"}}, "ADDED")
    assert store.events_since(0) is None, "older than the history: 410"
    assert [e.rv for e in store.events_since(2) or ()] == [3, 4]
