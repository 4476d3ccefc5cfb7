"""Unknown fields inside a CustomResourceDefinition: what kube-apiserver's decoder drops or refuses.

kube-apiserver decodes a CRD into the typed `apiextensions.k8s.io/v1` structs (`types.go`,
`types_jsonschema.go`), so a misspelt keyword (`propertis`, `x-kubernetes-preserve-unknown-field`)
is an unknown field: with `fieldValidation=Strict` (kubectl's default) the write fails, with Warn it
is dropped with a warning. Paths are sigs.k8s.io/json's strict-decoding paths, map keys joined with
dots (`spec.versions[0].schema.openAPIV3Schema.properties.spec.propertis`).

`items`, `additionalProperties`, `additionalItems` and `dependencies` hold schemas behind custom
`UnmarshalJSON` methods (`v1/marshal.go`) that decode without strictness: unknown fields below them
are dropped silently, never reported. `default`, `example` and `enum` values are free JSON.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

# Each struct: its JSON fields, and for those that hold another struct, which one (a list of it, or
# a map of it, as "[]X" / "{}X").
STRUCTS: dict[str, dict[str, str]] = {
    "spec": {
        "group": "",
        "names": "names",
        "scope": "",
        "versions": "[]version",
        "conversion": "conversion",
        "preserveUnknownFields": "",
    },
    "names": dict.fromkeys(("plural", "singular", "shortNames", "kind", "listKind", "categories"), ""),
    "version": {
        "name": "",
        "served": "",
        "storage": "",
        "deprecated": "",
        "deprecationWarning": "",
        "schema": "validation",
        "subresources": "subresources",
        "additionalPrinterColumns": "[]column",
        "selectableFields": "[]selectable",
    },
    "validation": {"openAPIV3Schema": "props"},
    "subresources": {"status": "empty", "scale": "scale"},
    "empty": {},
    "scale": dict.fromkeys(("specReplicasPath", "statusReplicasPath", "labelSelectorPath"), ""),
    "column": dict.fromkeys(("name", "type", "format", "description", "priority", "jsonPath"), ""),
    "selectable": {"jsonPath": ""},
    "conversion": {"strategy": "", "webhook": "webhook"},
    "webhook": {"clientConfig": "clientConfig", "conversionReviewVersions": ""},
    "clientConfig": {"url": "", "service": "service", "caBundle": ""},
    "service": dict.fromkeys(("namespace", "name", "path", "port"), ""),
    "docs": {"description": "", "url": ""},
    "rule": dict.fromkeys(("rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"), ""),
    "props": {
        **dict.fromkeys(
            [
                "id",
                "$schema",
                "$ref",
                "description",
                "type",
                "format",
                "title",
                "default",
                "maximum",
                "exclusiveMaximum",
                "minimum",
                "exclusiveMinimum",
                "maxLength",
                "minLength",
                "pattern",
                "maxItems",
                "minItems",
                "uniqueItems",
                "multipleOf",
                "enum",
                "maxProperties",
                "minProperties",
                "required",
                "nullable",
                "x-kubernetes-preserve-unknown-fields",
                "x-kubernetes-embedded-resource",
                "x-kubernetes-int-or-string",
                "x-kubernetes-list-map-keys",
                "x-kubernetes-list-type",
                "x-kubernetes-map-type",
                "example",
            ],
            "",
        ),
        # decoded non-strictly by custom unmarshalers: unknown fields below vanish unreported
        **dict.fromkeys(("items", "additionalProperties", "additionalItems", "dependencies"), "lax"),
        "allOf": "[]props",
        "oneOf": "[]props",
        "anyOf": "[]props",
        "not": "props",
        "properties": "{}props",
        "patternProperties": "{}props",
        "definitions": "{}props",
        "externalDocs": "docs",
        "x-kubernetes-validations": "[]rule",
    },
}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(value: Any, struct: str, path: str, found: list[str], drop: bool) -> None:
    """Record (and with `drop`, delete) the unknown fields of `value`, decoded as `struct`."""
    if not isinstance(value, dict):
        return
    fields = STRUCTS[struct]
    for key in list(value):
        kind = fields.get(key)
        if kind is None:
            found.append(_join(path, key))
            if drop:
                del value[key]
        elif value[key] is None:
            if drop:
                del value[key]  # null leaves the Go field at its zero value, which is not written back
        elif kind == "lax":
            _lax(key, value[key], drop)
        elif kind.startswith("[]") and isinstance(value[key], list):
            for i, item in enumerate(value[key]):
                if item is None and drop:
                    value[key][i] = item = {}  # a null element decodes to the zero struct
                _walk(item, kind[2:], f"{_join(path, key)}[{i}]", found, drop)
        elif kind.startswith("{}") and isinstance(value[key], dict):
            for name, item in value[key].items():
                if item is None and drop:
                    value[key][name] = item = {}
                _walk(item, kind[2:], _join(_join(path, key), name), found, drop)
        elif kind:
            _walk(value[key], kind, _join(path, key), found, drop)


def _lax(key: str, value: Any, drop: bool) -> None:
    # `items` may be a schema or a list of them, `additionalProperties`/`additionalItems` a schema or a
    # boolean, `dependencies` a map of schemas or string lists: each schema is decoded without strictness.
    if not drop:
        return
    if key == "dependencies":
        candidates = list(value.values()) if isinstance(value, dict) else []
    else:
        candidates = value if isinstance(value, list) else [value]
    for candidate in candidates:
        _walk(candidate, "props", "", [], drop=True)


def unknown(crd: Obj) -> list[str]:
    """Paths of the unknown fields in `spec` that strict decoding reports."""
    found: list[str] = []
    _walk(crd.get("spec"), "spec", "spec", found, drop=False)
    return found


def prune(crd: Obj) -> None:
    """Drop what the decoder drops, reported or not (in place)."""
    _walk(crd.get("spec"), "spec", "spec", [], drop=True)
