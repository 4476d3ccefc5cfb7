"""Decoding a CRD into the typed v1 structs: a value of the wrong JSON type is a 400, as in kube-apiserver.

kube-apiserver decodes a CustomResourceDefinition with sigs.k8s.io/json (a fork of encoding/json)
into `apiextensions.k8s.io/v1` types; a string where `required` wants a list fails the whole
request with `CustomResourceDefinition in version "v1" cannot be handled as a
CustomResourceDefinition: json: cannot unmarshal string into Go struct field
JSONSchemaProps.spec.versions.schema.openAPIV3Schema.required of type []string` — the first such
error only, its field path made of JSON names without indices or map keys (`decode.go`:
`UnmarshalTypeError`, `addErrorContext`). Schemas under `items`, `additionalProperties`,
`additionalItems` and `dependencies` go through custom unmarshalers (`v1/marshal.go`) that decode
them afresh, so errors there name the path from that schema. Validation only ever sees values of
the right types.
"""

from __future__ import annotations

from typing import Any

from atomesh.devstack.kube.crd_fields import STRUCTS

Obj = dict[str, Any]

GO_STRUCTS = {
    "spec": "CustomResourceDefinitionSpec",
    "names": "CustomResourceDefinitionNames",
    "version": "CustomResourceDefinitionVersion",
    "validation": "CustomResourceValidation",
    "subresources": "CustomResourceSubresources",
    "empty": "CustomResourceSubresourceStatus",
    "scale": "CustomResourceSubresourceScale",
    "column": "CustomResourceColumnDefinition",
    "selectable": "SelectableField",
    "conversion": "CustomResourceConversion",
    "webhook": "WebhookConversion",
    "clientConfig": "WebhookClientConfig",
    "service": "ServiceReference",
    "docs": "ExternalDocumentation",
    "rule": "ValidationRule",
    "props": "JSONSchemaProps",
}
_S, _B, _I64, _I32, _F, _SS, _ANY = "string", "bool", "int64", "int32", "float64", "[]string", "any"
# The leaves of each struct: (JSON kind checked, Go type printed).
LEAVES: dict[str, dict[str, tuple[str, str]]] = {
    "spec": {"group": (_S, _S), "scope": (_S, "v1.ResourceScope"), "preserveUnknownFields": (_B, _B)},
    "names": {
        **dict.fromkeys(("plural", "singular", "kind", "listKind"), (_S, _S)),
        **dict.fromkeys(("shortNames", "categories"), (_SS, _SS)),
    },
    "version": {
        "name": (_S, _S),
        **dict.fromkeys(("served", "storage", "deprecated"), (_B, _B)),
        "deprecationWarning": (_S, _S),
    },
    "scale": dict.fromkeys(("specReplicasPath", "statusReplicasPath", "labelSelectorPath"), (_S, _S)),
    "column": {
        **dict.fromkeys(("name", "type", "format", "description", "jsonPath"), (_S, _S)),
        "priority": (_I32, _I32),
    },
    "selectable": {"jsonPath": (_S, _S)},
    "conversion": {"strategy": (_S, "v1.ConversionStrategyType")},
    "webhook": {"conversionReviewVersions": (_SS, _SS)},
    "clientConfig": {"url": (_S, _S), "caBundle": (_S, "[]uint8")},
    "service": {**dict.fromkeys(("namespace", "name", "path"), (_S, _S)), "port": (_I32, _I32)},
    "docs": {"description": (_S, _S), "url": (_S, _S)},
    "rule": {
        **dict.fromkeys(("rule", "message", "messageExpression", "fieldPath"), (_S, _S)),
        "reason": (_S, "v1.FieldValueErrorReason"),
        "optionalOldSelf": (_B, _B),
    },
    "props": {
        **dict.fromkeys(("id", "$ref", "description", "type", "format", "title", "pattern"), (_S, _S)),
        "$schema": (_S, "v1.JSONSchemaURL"),
        **dict.fromkeys(("x-kubernetes-list-type", "x-kubernetes-map-type"), (_S, _S)),
        **dict.fromkeys(("maximum", "minimum", "multipleOf"), (_F, _F)),
        **dict.fromkeys(
            (
                "exclusiveMaximum",
                "exclusiveMinimum",
                "uniqueItems",
                "nullable",
                "x-kubernetes-preserve-unknown-fields",
                "x-kubernetes-embedded-resource",
                "x-kubernetes-int-or-string",
            ),
            (_B, _B),
        ),
        **dict.fromkeys(
            ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minProperties"), (_I64, _I64)
        ),
        **dict.fromkeys(("required", "x-kubernetes-list-map-keys"), (_SS, _SS)),
        "default": (_ANY, _ANY),
        "example": (_ANY, _ANY),
        "enum": ("[]any", "[]v1.JSON"),
    },
}
_RANGES = {_I64: (-(2**63), 2**63 - 1), _I32: (-(2**31), 2**31 - 1)}


class _Error(Exception):
    pass


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fail(value: Any, struct: str | None, stack: list[str], go_type: str, shown: str | None = None) -> _Error:
    what = shown or _kind(value)
    if struct is None and not stack:
        return _Error(f"json: cannot unmarshal {what} into Go value of type {go_type}")
    return _Error(f"json: cannot unmarshal {what} into Go struct field {struct}.{'.'.join(stack)} of type {go_type}")


def _leaf(value: Any, check: str, go_type: str, struct: str, stack: list[str]) -> None:
    if check == _ANY:
        return
    if check == "[]any":
        if not isinstance(value, list):
            raise _fail(value, struct, stack, go_type)
        return
    if check == _SS:
        if not isinstance(value, list):
            raise _fail(value, struct, stack, go_type)
        for item in value:
            if item is not None and not isinstance(item, str):
                raise _fail(item, struct, stack, _S)
        return
    if check in _RANGES:
        low, high = _RANGES[check]
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise _fail(value, struct, stack, go_type, f"number {value}")
        raise _fail(value, struct, stack, go_type)
    ok = {_S: isinstance(value, str), _B: isinstance(value, bool)}.get(check)
    if ok is None:  # float64
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise _fail(value, struct, stack, go_type)


def _struct(value: Obj, struct: str, stack: list[str]) -> None:
    name = GO_STRUCTS[struct]
    for key, item in value.items():
        kind = STRUCTS[struct].get(key)
        if kind is None or item is None:
            continue  # unknown fields are crd_fields' business; null leaves a field unset
        here = [*stack, key]
        if key in LEAVES.get(struct, {}):
            _leaf(item, *LEAVES[struct][key], name, here)
        elif kind == "lax":
            _lax(key, item, name, here)
        elif kind.startswith(("[]", "{}")):
            inner = kind[2:]
            many = isinstance(item, list) if kind.startswith("[]") else isinstance(item, dict)
            if not many:
                prefix = "[]" if kind.startswith("[]") else "map[string]"
                raise _fail(item, name, here, f"{prefix}v1.{GO_STRUCTS[inner]}")
            for element in item if isinstance(item, list) else item.values():
                _nested(element, inner, name, here)
        elif kind:
            _nested(item, kind, name, here)


def _nested(value: Any, struct: str, parent: str, stack: list[str]) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _fail(value, parent, stack, f"v1.{GO_STRUCTS[struct]}")
    _struct(value, struct, stack)


def _fresh(value: Any) -> None:
    """A schema decoded by its own json.Unmarshal call: paths restart from it."""
    if isinstance(value, dict):
        _struct(value, "props", [])


def _lax(key: str, value: Any, parent: str, stack: list[str]) -> None:
    if key == "items":
        # JSONSchemaPropsOrArray: an object or an array of objects; anything else decodes to nothing
        if isinstance(value, list):
            for element in value:
                if element is not None and not isinstance(element, dict):
                    raise _fail(element, None, [], "v1.JSONSchemaProps")
                _fresh(element)
        else:
            _fresh(value)
    elif key in ("additionalProperties", "additionalItems"):
        if not isinstance(value, bool | dict):
            raise _Error("boolean or JSON schema expected")
        _fresh(value)
    elif not isinstance(value, dict):  # dependencies: map[string]JSONSchemaPropsOrStringArray
        raise _fail(value, parent, stack, "v1.JSONSchemaDependencies")
    else:
        for dependency in value.values():
            if isinstance(dependency, list):
                for item in dependency:
                    if item is not None and not isinstance(item, str):
                        raise _fail(item, None, [], _S)
            _fresh(dependency)


def decode_error(crd: Obj) -> str | None:
    """The first type error decoding `spec` would hit, or None."""
    spec = crd.get("spec")
    try:
        if spec is not None and not isinstance(spec, dict):
            raise _fail(spec, "CustomResourceDefinition", ["spec"], "v1.CustomResourceDefinitionSpec")
        if isinstance(spec, dict):
            _struct(spec, "spec", ["spec"])
    except _Error as error:
        return str(error)
    return None
