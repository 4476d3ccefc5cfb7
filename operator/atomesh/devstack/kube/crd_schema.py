"""A CRD version's `openAPIV3Schema` checked as kube-apiserver checks it when the CRD is written.

A port of apiextensions-apiserver `pkg/apis/apiextensions/validation/validation.go`:
`validateCustomResourceDefinitionValidation` (root restrictions with a status subresource,
structural schema, defaults) and `ValidateCustomResourceDefinitionOpenAPISchema` with its
`specStandardValidatorV3` (unsupported keywords, defaults where pruning cannot place them,
list and map types, list-map keys, the static checks of `x-kubernetes-validations`). Compiling
and costing CEL rules is not done here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from atomesh.devstack.kube import field_errors as fe
from atomesh.devstack.kube import schema_defaults, structural
from atomesh.devstack.kube.field_errors import Cause, child, index, key
from atomesh.devstack.kube.structural import Schema, properties

OPENAPI_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
META_FIELDS = ("metadata", "kind", "apiVersion")
RULE_REASONS = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]
_NEWLINES = re.compile(r"[\n\r]+")

# JSONSchemaProps' fields in Go declaration order (the status-root check walks them in this order),
# and the Go names kube-apiserver prints of those allowed at the root when status is a subresource.
_FIELD_ORDER = [
    "id",
    "$schema",
    "$ref",
    "description",
    "type",
    "nullable",
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
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "definitions",
    "externalDocs",
    "example",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
]
_ROOT_ALLOWED = {
    "description": "Description",
    "type": "Type",
    "format": "Format",
    "title": "Title",
    "maximum": "Maximum",
    "exclusiveMaximum": "ExclusiveMaximum",
    "minimum": "Minimum",
    "exclusiveMinimum": "ExclusiveMinimum",
    "maxLength": "MaxLength",
    "minLength": "MinLength",
    "pattern": "Pattern",
    "maxItems": "MaxItems",
    "minItems": "MinItems",
    "uniqueItems": "UniqueItems",
    "multipleOf": "MultipleOf",
    "required": "Required",
    "items": "Items",
    "properties": "Properties",
    "externalDocs": "ExternalDocs",
    "example": "Example",
    "x-kubernetes-preserve-unknown-fields": "XPreserveUnknownFields",
    "x-kubernetes-validations": "XValidations",
}


@dataclass(frozen=True)
class _Standard:
    """`specStandardValidatorV3`: where defaults may be set and whether we are inside resource meta."""

    allow_defaults: bool = True
    disallow_reason: str = ""
    inside_meta: bool = False

    def forbid_defaults(self, reason: str) -> _Standard:
        return replace(self, allow_defaults=False, disallow_reason=reason)

    def validate(self, s: Schema, path: str) -> list[Cause]:
        errors: list[Cause] = []
        type_ = s.get("type") or ""
        if type_ and type_ not in OPENAPI_TYPES:
            errors.append(fe.not_supported(child(path, "type"), type_, OPENAPI_TYPES))
        if s.get("default") is not None and not self.allow_defaults:
            detail = f"must not be set {self.disallow_reason}" if self.disallow_reason else "must not be set"
            errors.append(fe.forbidden(child(path, "default"), detail))
        if s.get("id"):
            errors.append(fe.forbidden(child(path, "id"), "id is not supported"))
        if s.get("additionalItems") is not None:
            errors.append(fe.forbidden(child(path, "additionalItems"), "additionalItems is not supported"))
        if s.get("patternProperties"):
            errors.append(fe.forbidden(child(path, "patternProperties"), "patternProperties is not supported"))
        if s.get("definitions"):
            errors.append(fe.forbidden(child(path, "definitions"), "definitions is not supported"))
        if s.get("dependencies") is not None:
            errors.append(fe.forbidden(child(path, "dependencies"), "dependencies is not supported"))
        if s.get("$ref") is not None:
            errors.append(fe.forbidden(child(path, "$ref"), "$ref is not supported"))
        if type_ == "null":
            errors.append(
                fe.forbidden(child(path, "type"), "type cannot be set to null, use nullable as an alternative")
            )
        if isinstance(s.get("items"), list):
            errors.append(fe.forbidden(child(path, "items"), "items must be a schema object and not an array"))
        if self.inside_meta and s.get("x-kubernetes-embedded-resource"):
            errors.append(
                fe.forbidden(child(path, "x-kubernetes-embedded-resource"), "must not be used inside of resource meta")
            )
        return errors


def validate_version_schema(holder: Any, status_enabled: bool, path: str) -> list[Cause]:
    """`validateCustomResourceDefinitionValidation` for `spec.validation` or `spec.versions[i].schema`."""
    if not isinstance(holder, dict) or not isinstance(holder.get("openAPIV3Schema"), dict):
        return []
    s: Schema = holder["openAPIV3Schema"]
    at = child(path, "openAPIV3Schema")
    errors: list[Cause] = []
    if status_enabled:
        errors += _status_root(s, at)
    if s.get("nullable"):
        errors.append(fe.forbidden(child(at, "nullable"), "nullable cannot be true at the root"))
    # Every v1 CRD must be structural (spec.preserveUnknownFields may not be true), so create and
    # update alike check structure first and defaults only on a structural schema.
    init_error = structural.conversion_error(s)
    if init_error is None:
        errors += structural.validate_structural(s, at) or schema_defaults.validate_defaults(s, at)
    errors += validate_openapi_schema(s, at, _Standard(), is_root=True)
    if not errors and init_error:
        errors.append(fe.invalid(at, "", init_error))
    return errors


def _status_root(s: Schema, at: str) -> list[Cause]:
    for name in _FIELD_ORDER:
        value = s.get(name)
        if value is None or value is False or value in ("", [], {}):
            continue  # Go skips zero values
        if name == "type":
            if value != "object":
                only = 'only "object" is allowed as the type at the root of the schema'
                only += " if the status subresource is enabled"
                return [fe.invalid(child(at, "type"), value, only)]
            continue
        if name not in _ROOT_ALLOWED:
            allowed = "[" + " ".join(_ROOT_ALLOWED.values()) + "]"
            detail = f"only {allowed} fields are allowed at the root of the schema if the status subresource is enabled"
            return [fe.invalid(at, s, detail)]
    return []


def validate_openapi_schema(s: Schema, path: str, ssv: _Standard, is_root: bool) -> list[Cause]:
    """`ValidateCustomResourceDefinitionOpenAPISchema`, without compiling CEL rules."""
    errors = ssv.validate(s, path)
    if s.get("uniqueItems"):
        errors.append(
            fe.forbidden(
                child(path, "uniqueItems"),
                "uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
            )
        )
    props = properties(s)
    extra = s.get("additionalProperties")
    if extra is not None:
        if props and (extra is False or isinstance(extra, dict)):
            errors.append(
                fe.forbidden(
                    child(path, "additionalProperties"), "additionalProperties and properties are mutual exclusive"
                )
            )
        sub = ssv.forbid_defaults("inside additionalProperties applying to object metadata") if ssv.inside_meta else ssv
        if isinstance(extra, dict):
            errors += validate_openapi_schema(extra, child(path, "additionalProperties"), sub, False)
    for name in sorted(props):  # Go walks a map: any order is kube's order
        sub = ssv
        if (is_root or s.get("x-kubernetes-embedded-resource")) and name in META_FIELDS:
            sub = replace(sub, inside_meta=True)
            if is_root:
                sub = sub.forbid_defaults(f"in top-level {name}")
        errors += validate_openapi_schema(props[name], key(child(path, "properties"), name), sub, False)
    if isinstance(s.get("not"), dict):
        errors += validate_openapi_schema(s["not"], child(path, "not"), ssv, False)
    for junctor in ("allOf", "oneOf", "anyOf"):
        for i, clause in enumerate(s.get(junctor) or []):
            if isinstance(clause, dict):
                errors += validate_openapi_schema(clause, index(child(path, junctor), i), ssv, False)
    for name, sub_schema in sorted((s.get("definitions") or {}).items()):
        if isinstance(sub_schema, dict):
            errors += validate_openapi_schema(sub_schema, key(child(path, "definitions"), name), ssv, False)
    items = s.get("items")
    if isinstance(items, dict):
        errors += validate_openapi_schema(items, child(path, "items"), ssv, False)
    elif isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                errors += validate_openapi_schema(item, index(child(path, "items"), i), ssv, False)
    for name, dependency in sorted((s.get("dependencies") or {}).items()):
        if isinstance(dependency, dict):
            errors += validate_openapi_schema(dependency, key(child(path, "dependencies"), name), ssv, False)
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errors.append(
            fe.invalid(child(path, "x-kubernetes-preserve-unknown-fields"), False, "must be true or undefined")
        )
    errors += _map_and_list_types(s, path)
    errors += _rules(s, path)
    return errors


def _must_be(path: str, type_: str, wanted: str, extension: str) -> Cause:
    detail = f"must be {wanted} if {extension} is specified"
    return fe.invalid(child(path, "type"), type_, detail) if type_ else fe.required(child(path, "type"), detail)


def _map_and_list_types(s: Schema, path: str) -> list[Cause]:
    errors: list[Cause] = []
    type_ = s.get("type") or ""
    map_type, list_type = s.get("x-kubernetes-map-type"), s.get("x-kubernetes-list-type")
    keys = s.get("x-kubernetes-list-map-keys") or []
    items = s.get("items")
    if map_type is not None and type_ != "object":
        errors.append(_must_be(path, type_, "object", "x-kubernetes-map-type"))
    if map_type is not None and map_type not in ("atomic", "granular"):
        errors.append(fe.not_supported(child(path, "x-kubernetes-map-type"), map_type, ["atomic", "granular"]))
    if list_type is not None and type_ != "array":
        errors.append(_must_be(path, type_, "array", "x-kubernetes-list-type"))
    elif list_type == "set" and isinstance(items, dict):
        atomic = "must be atomic as item of a list with x-kubernetes-list-type=set"
        item_list_type = items.get("x-kubernetes-list-type")
        if items.get("type") == "array" and item_list_type is not None and item_list_type != "atomic":
            errors.append(fe.invalid(child(path, "items", "x-kubernetes-list-type"), item_list_type, atomic))
        if items.get("type") == "object" and items.get("x-kubernetes-map-type") != "atomic":
            # kube-apiserver shows the item's list type here, which is almost always unset (null)
            errors.append(fe.invalid(child(path, "items", "x-kubernetes-map-type"), item_list_type, atomic))
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        errors.append(fe.not_supported(child(path, "x-kubernetes-list-type"), list_type, ["atomic", "set", "map"]))
    if keys:
        if list_type is None:
            errors.append(
                fe.required(
                    child(path, "x-kubernetes-list-type"), "must be map if x-kubernetes-list-map-keys is non-empty"
                )
            )
        elif list_type != "map":
            errors.append(
                fe.invalid(
                    child(path, "x-kubernetes-list-type"),
                    list_type,
                    "must be map if x-kubernetes-list-map-keys is non-empty",
                )
            )
    if list_type == "map":
        errors += _list_map(s, keys, items, path)
    if list_type in ("set", "map") and isinstance(items, dict):
        errors += _list_map_keys_and_set_items(items, list_type, keys, path)
    return errors


def _list_map(s: Schema, keys: list[Any], items: Any, path: str) -> list[Cause]:
    errors: list[Cause] = []
    if not keys:
        errors.append(
            fe.required(child(path, "x-kubernetes-list-map-keys"), "must not be empty if x-kubernetes-list-type is map")
        )
    if items is None:
        errors.append(fe.required(child(path, "items"), "must have a schema if x-kubernetes-list-type is map"))
    elif isinstance(items, list):
        errors.append(
            fe.invalid(child(path, "items"), items, "must only have a single schema if x-kubernetes-list-type is map")
        )
    elif items.get("type") != "object":
        errors.append(
            fe.invalid(
                child(path, "items", "type"),
                items.get("type") or "",
                "must be object if parent array's x-kubernetes-list-type is map",
            )
        )
    else:
        item_props = properties(items)
        seen: set[str] = set()
        for name in keys:
            if name in item_props:
                if item_props[name].get("type") in ("array", "object"):
                    errors.append(
                        fe.invalid(
                            child(key(child(path, "items", "properties"), name), "type"),
                            "object",  # kube-apiserver shows the item's type, not the key's
                            "must be a scalar type if parent array's x-kubernetes-list-type is map",
                        )
                    )
            else:
                errors.append(
                    fe.invalid(
                        child(path, "x-kubernetes-list-map-keys"), keys, "entries must all be names of item properties"
                    )
                )
            if name in seen:
                errors.append(
                    fe.invalid(child(path, "x-kubernetes-list-map-keys"), keys, "must not contain duplicate entries")
                )
            seen.add(name)
    return errors


def _list_map_keys_and_set_items(items: Schema, list_type: str, keys: list[Any], path: str) -> list[Cause]:
    """`validateMapListKeysMapSet`: set and map items are never null, map keys always present."""
    errors: list[Cause] = []
    if items.get("nullable"):
        errors.append(
            fe.forbidden(
                child(path, "items", "nullable"), f"cannot be nullable when x-kubernetes-list-type is {list_type}"
            )
        )
    if list_type == "map":
        required = set(items.get("required") or [])
        item_props = properties(items)
        for name in keys:
            if name not in item_props:
                continue
            at = key(child(path, "items", "properties"), name)
            if name not in required and item_props[name].get("default") is None:
                errors.append(
                    fe.required(
                        child(at, "default"),
                        "this property is in x-kubernetes-list-map-keys, "
                        "so it must have a default or be a required property",
                    )
                )
            if item_props[name].get("nullable"):
                errors.append(
                    fe.forbidden(
                        child(at, "nullable"),
                        "this property is in x-kubernetes-list-map-keys, so it cannot be nullable",
                    )
                )
    return errors


def _rules(s: Schema, path: str) -> list[Cause]:
    """The static checks of `x-kubernetes-validations`; compiling the CEL is another module's work."""
    errors: list[Cause] = []
    for i, rule in enumerate(s.get("x-kubernetes-validations") or []):
        if not isinstance(rule, dict):
            continue
        at = index(child(path, "x-kubernetes-validations"), i)
        text, message = str(rule.get("rule") or ""), str(rule.get("message") or "")
        expression, field_path = str(rule.get("messageExpression") or ""), str(rule.get("fieldPath") or "")
        if not text.strip():
            errors.append(fe.required(child(at, "rule"), "rule is not specified"))
        elif message and not message.strip():
            errors.append(fe.invalid(child(at, "message"), message, "must be non-empty if specified"))
        elif _NEWLINES.search(message.strip()):
            errors.append(fe.invalid(child(at, "message"), message, "must not contain line breaks"))
        elif _NEWLINES.search(text.strip()) and not message.strip():
            errors.append(fe.required(child(at, "message"), "message must be specified if rule contains line breaks"))
        if expression and not expression.strip():
            errors.append(
                fe.required(child(at, "messageExpression"), "messageExpression must be non-empty if specified")
            )
        reason = rule.get("reason")
        if reason is not None and reason not in RULE_REASONS:
            errors.append(fe.not_supported(child(at, "reason"), reason, RULE_REASONS))
        if field_path and not field_path.strip():
            errors.append(fe.invalid(child(at, "fieldPath"), field_path, "must be non-empty if specified"))
        if _NEWLINES.search(field_path):
            errors.append(fe.invalid(child(at, "fieldPath"), field_path, "must not contain line breaks"))
    return errors
