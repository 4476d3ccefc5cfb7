"""A CustomResourceDefinition validated as kube-apiserver validates it on create and update.

A port of apiextensions-apiserver `pkg/apis/apiextensions/validation/validation.go`
(`ValidateCustomResourceDefinition`, `…Update`, `…Spec`, `…Names`, `…ColumnDefinition`,
`…Subresources`, `…StoredVersions`, `validateAPIApproval`, `validatePreserveUnknownFields`),
with kube-apiserver's messages and field paths. kube-apiserver validates the internal form of a
v1 CRD, which moves a schema, subresources or printer columns that every version shares to the
top level (`pkg/apis/apiextensions/v1/conversion.go`): so errors in a single-version CRD's schema
are reported under `spec.validation.openAPIV3Schema`, as a real cluster reports them.

Refused because the emulator cannot honour them: conversion webhooks and selectable fields.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlsplit

from atomesh.devstack.kube import crd_schema
from atomesh.devstack.kube import field_errors as fe
from atomesh.devstack.kube.errors import invalid
from atomesh.devstack.kube.field_errors import Cause, child, index

Obj = dict[str, Any]
COLUMN_TYPES = ["boolean", "date", "integer", "number", "string"]
COLUMN_FORMATS = ["byte", "date", "date-time", "double", "float", "int32", "int64", "password"]
APPROVAL = "api-approved.kubernetes.io"
_SHARED = ("schema", "subresources", "additionalPrinterColumns", "selectableFields")
_TOP_LEVEL = {"schema": "validation"}


def validate_crd(crd: Obj, old: Obj | None = None) -> None:
    """Raise 422 Invalid with every error kube-apiserver would report for this write."""
    errors = crd_errors(crd, old)
    if errors:
        name = str((crd.get("metadata") or {}).get("name", ""))
        raise invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, errors)


def crd_errors(crd: Obj, old: Obj | None = None) -> list[Cause]:
    spec: Obj = crd.get("spec") or {}
    errors = _name(crd, spec)
    errors += _spec(spec)
    if old is not None:
        errors += _immutable(spec, old.get("spec") or {})
    errors += _stored_versions(spec, old)
    errors += _approval(crd, old)
    if spec.get("preserveUnknownFields") is True and not (old and (old.get("spec") or {}).get("preserveUnknownFields")):
        errors.append(
            fe.invalid(
                "spec.preserveUnknownFields",
                True,
                "cannot set to true, "
                "set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
            )
        )
    return errors


def _name(crd: Obj, spec: Obj) -> list[Cause]:
    name = str((crd.get("metadata") or {}).get("name", ""))
    names = spec.get("names") or {}
    problems = fe.dns1123_subdomain(name)
    if name != f"{names.get('plural', '')}.{spec.get('group', '')}":
        problems.append('must be spec.names.plural+"."+spec.group')
    return [fe.invalid("metadata.name", name, problem) for problem in problems]


def _internal(spec: Obj) -> tuple[Obj, list[Obj]]:
    """The fields every version shares, as the internal form holds them at the top level, and the
    versions without them (`Convert_v1_CustomResourceDefinitionSpec_To_apiextensions_…`)."""
    versions = [v if isinstance(v, dict) else {} for v in spec.get("versions") or []]
    shared: Obj = {}
    if versions:
        for field in _SHARED:
            first = versions[0].get(field)
            if all(v.get(field) == first for v in versions):
                shared[field] = first
                versions = [{k: x for k, x in v.items() if k != field} for v in versions]
    return shared, versions


def _spec(spec: Obj) -> list[Cause]:
    errors: list[Cause] = []
    group = str(spec.get("group") or "")
    if not group:
        errors.append(fe.required("spec.group"))
    elif problems := fe.dns1123_subdomain(group):
        errors.append(fe.invalid("spec.group", group, ",".join(problems)))
    elif "." not in group:
        errors.append(fe.invalid("spec.group", group, "should be a domain with at least one dot"))
    errors += _enum("spec.scope", spec.get("scope"), ["Cluster", "Namespaced"])
    shared, versions = _internal(spec)
    if not isinstance((shared.get("schema") or {}).get("openAPIV3Schema"), dict):
        for i, version in enumerate(versions):
            if not isinstance((version.get("schema") or {}).get("openAPIV3Schema"), dict):
                errors.append(fe.required(child(index("spec.versions", i), "schema", "openAPIV3Schema")))
    if spec.get("preserveUnknownFields") is True and _has_defaults(spec):
        errors.append(
            fe.invalid("spec.preserveUnknownFields", True, "must be false in order to use defaults in the schema")
        )
    top_status = _status_enabled(shared.get("subresources"))
    names_seen: set[str] = set()
    unique, storage = True, 0
    for i, version in enumerate(versions):
        at = index("spec.versions", i)
        name = str(version.get("name") or "")
        storage += 1 if version.get("storage") else 0
        unique = unique and name not in names_seen
        names_seen.add(name)
        errors += [fe.invalid(child(at, "name"), name, ",".join(p)) for p in [fe.dns1035_label(name)] if p]
        status = top_status if "subresources" in shared else _status_enabled(version.get("subresources"))
        errors += _version(version, at, status)
    if not unique:
        errors.append(fe.invalid("spec.versions", spec.get("versions"), "must contain unique version names"))
    if storage != 1:
        errors.append(
            fe.invalid("spec.versions", spec.get("versions"), "must have exactly one version marked as storage version")
        )
    if versions and (problems := fe.dns1035_label(str(versions[0].get("name") or ""))):
        errors.append(fe.invalid("spec.version", versions[0].get("name") or "", ",".join(problems)))
    names: Obj = spec.get("names") or {}
    for field in ("plural", "singular", "kind", "listKind"):
        if not names.get(field):
            errors.append(fe.required(child("spec.names", field)))
    errors += names_errors(names, "spec.names")
    # a shared schema is checked as restricted when any version has a status subresource (hasAnyStatusEnabled)
    any_status = top_status or any(_status_enabled(v.get("subresources")) for v in versions)
    errors += crd_schema.validate_version_schema(shared.get("schema"), any_status, "spec.validation")
    errors += _subresources(shared.get("subresources"), "spec.subresources")
    for i, column in enumerate(shared.get("additionalPrinterColumns") or []):
        errors += _column(column, index("spec.additionalPrinterColumns", i))
    errors += _selectable(shared.get("selectableFields"), "spec.selectableFields")
    errors += _conversion(spec.get("conversion"))
    return errors


def _version(version: Obj, at: str, status_enabled: bool) -> list[Cause]:
    errors: list[Cause] = []
    warning = version.get("deprecationWarning")
    for problem in _deprecation_warning(bool(version.get("deprecated")), warning):
        errors.append(fe.invalid(child(at, "deprecationWarning"), warning, problem))
    errors += crd_schema.validate_version_schema(version.get("schema"), status_enabled, child(at, "schema"))
    errors += _subresources(version.get("subresources"), child(at, "subresources"))
    for i, column in enumerate(version.get("additionalPrinterColumns") or []):
        errors += _column(column, index(child(at, "additionalPrinterColumns"), i))
    errors += _selectable(version.get("selectableFields"), child(at, "selectableFields"))
    return errors


def _deprecation_warning(deprecated: bool, warning: Any) -> list[str]:
    if warning is None:
        return []
    if not deprecated:
        return ["can only be set for deprecated versions"]
    problems = []
    text = str(warning)
    if len(text.encode()) > 256:
        problems.append("must be <= 256 characters long")
    if not text:
        problems.append("must not be an empty string")
    for i, char in enumerate(text):
        if not char.isprintable() and char != " ":
            kind = "control" if unicodedata.category(char) == "Cc" else "non-printable"
            problems.append(f"must only contain printable UTF-8 characters; {kind} character found at index {i}")
            break
    return problems


def _status_enabled(subresources: Any) -> bool:
    return isinstance(subresources, dict) and subresources.get("status") is not None


def _enum(path: str, value: Any, accepted: list[str]) -> list[Cause]:
    if not value:
        return [fe.required(path)]
    return [] if value in accepted else [fe.not_supported(path, value, accepted)]


def names_errors(names: Obj, path: str) -> list[Cause]:
    """`ValidateCustomResourceDefinitionNames`."""
    errors: list[Cause] = []
    for field in ("plural", "singular"):
        value = str(names.get(field) or "")
        if value and (problems := fe.dns1035_label(value)):
            errors.append(fe.invalid(child(path, field), value, ",".join(problems)))
    for field in ("kind", "listKind"):
        value = str(names.get(field) or "")
        if value and (problems := fe.dns1035_label(value.lower())):
            detail = "may have mixed case, but should otherwise match: " + ",".join(problems)
            errors.append(fe.invalid(child(path, field), value, detail))
    for field in ("shortNames", "categories"):
        for i, value in enumerate(names.get(field) or []):
            if problems := fe.dns1035_label(str(value)):
                errors.append(fe.invalid(index(child(path, field), i), value, ",".join(problems)))
    if names.get("kind") and names.get("kind") == names.get("listKind"):
        errors.append(fe.invalid(child(path, "listKind"), names["listKind"], "kind and listKind may not be the same"))
    return errors


def _column(column: Any, at: str) -> list[Cause]:
    """`ValidateCustomResourceColumnDefinition` (its path says `JSONPath`, the internal field name)."""
    col: Obj = column if isinstance(column, dict) else {}
    errors: list[Cause] = []
    if not col.get("name"):
        errors.append(fe.required(child(at, "name")))
    one_of = "must be one of " + ",".join(COLUMN_TYPES)
    if not col.get("type"):
        errors.append(fe.required(child(at, "type"), one_of))
    elif col["type"] not in COLUMN_TYPES:
        errors.append(fe.invalid(child(at, "type"), col["type"], one_of))
    if col.get("format") and col["format"] not in COLUMN_FORMATS:
        errors.append(fe.invalid(child(at, "format"), col["format"], "must be one of " + ",".join(COLUMN_FORMATS)))
    if not col.get("jsonPath"):
        errors.append(fe.required(child(at, "JSONPath")))
    else:
        errors += _simple_json_path(str(col["jsonPath"]), child(at, "JSONPath"))
    return errors


def _simple_json_path(value: str, at: str) -> list[Cause]:
    if not value:
        return [fe.invalid(at, value, "must not be empty")]
    if not value.startswith("."):
        return [fe.invalid(at, value, "must be a simple json path starting with .")]
    return []


def _subresources(subresources: Any, at: str) -> list[Cause]:
    scale = subresources.get("scale") if isinstance(subresources, dict) else None
    if not isinstance(scale, dict):
        return []
    errors: list[Cause] = []
    for field, prefixes in (("specReplicasPath", (".spec.",)), ("statusReplicasPath", (".status.",))):
        where = child(at, f"scale.{field}")
        value = str(scale.get(field) or "")
        if not value:
            errors.append(fe.required(where))
        elif problems := _simple_json_path(value, where):
            errors += problems
        elif not value.startswith(prefixes):
            errors.append(fe.invalid(where, value, f"should be a json path under {prefixes[0][:-1]}"))
    selector = scale.get("labelSelectorPath")
    if selector:
        where = child(at, "scale.labelSelectorPath")
        if problems := _simple_json_path(str(selector), where):
            errors += problems
        elif not str(selector).startswith((".spec.", ".status.")):
            errors.append(fe.invalid(where, selector, "should be a json path under either .spec or .status"))
    return errors


def _selectable(fields: Any, at: str) -> list[Cause]:
    if not fields:
        return []
    return [
        fe.forbidden(at, "selectableFields are not emulated: the emulator selects custom resources by metadata only")
    ]


def _conversion(conversion: Any) -> list[Cause]:
    if not isinstance(conversion, dict):
        return []
    at = "spec.conversion"
    errors = _enum(child(at, "strategy"), conversion.get("strategy"), ["None", "Webhook"])
    webhook = conversion.get("webhook") or {}
    if conversion.get("strategy") == "Webhook":
        errors.append(fe.forbidden(child(at, "strategy"), "conversion webhooks are not emulated: use strategy None"))
    elif conversion.get("strategy") == "None":
        detail = "should not be set when strategy is not set to Webhook"
        if isinstance(webhook, dict) and webhook.get("clientConfig") is not None:
            errors.append(fe.forbidden(child(at, "webhookClientConfig"), detail))
        if isinstance(webhook, dict) and webhook.get("conversionReviewVersions"):
            errors.append(fe.forbidden(child(at, "conversionReviewVersions"), detail))
    return errors


def _immutable(spec: Obj, old: Obj) -> list[Cause]:
    """`validateCustomResourceDefinitionSpecUpdate`: an established CRD keeps group, plural, scope and kind."""
    pairs = (
        ("spec.scope", spec.get("scope"), old.get("scope")),
        ("spec.names.kind", (spec.get("names") or {}).get("kind"), (old.get("names") or {}).get("kind")),
        ("spec.group", spec.get("group"), old.get("group")),
        ("spec.names.plural", (spec.get("names") or {}).get("plural"), (old.get("names") or {}).get("plural")),
    )
    return [fe.immutable(path, new) for path, new, before in pairs if new != before]


def _stored_versions(spec: Obj, old: Obj | None) -> list[Cause]:
    """`ValidateCustomResourceDefinitionStoredVersions` on what the strategy will store: the old
    status' stored versions plus the new storage version."""
    versions = [v for v in spec.get("versions") or [] if isinstance(v, dict)]
    stored = list(((old or {}).get("status") or {}).get("storedVersions") or [])
    storage = next((v.get("name") for v in versions if v.get("storage")), None)
    if storage and storage not in stored:
        stored.append(storage)
    at = "status.storedVersions"
    if not stored:
        return [fe.invalid(at, None, "must have at least one stored version")]
    names = {v.get("name") for v in versions}
    errors = []
    for i, name in enumerate(stored):
        if name not in names:
            detail = (
                f"missing from spec.versions; {name} was previously a storage version, and must remain in "
                f"spec.versions until a storage migration ensures no data remains persisted in {name} and "
                f"removes {name} from status.storedVersions"
            )
            errors.append(fe.invalid(index(at, i), name, detail))
    return errors


def _approval(crd: Obj, old: Obj | None) -> list[Cause]:
    group = str((crd.get("spec") or {}).get("group") or "")
    if not any(group == g or group.endswith("." + g) for g in ("k8s.io", "kubernetes.io")):
        return []
    annotation = str(((crd.get("metadata") or {}).get("annotations") or {}).get(APPROVAL, ""))
    state = _approval_state(annotation)
    if (
        old is not None
        and _approval_state(str(((old.get("metadata") or {}).get("annotations") or {}).get(APPROVAL, ""))) == state
    ):
        return []
    at = f"metadata.annotations[{APPROVAL}]"
    see = "see https://github.com/kubernetes/enhancements/pull/1111"
    if state == "missing":
        return [fe.required(at, f'protected groups must have approval annotation "{APPROVAL}", {see}')]
    if state == "invalid":
        detail = (
            f'protected groups must have approval annotation "{APPROVAL}" with either a URL or a reason '
            f'starting with "unapproved", {see}'
        )
        return [fe.invalid(at, annotation, detail)]
    return []


def _approval_state(annotation: str) -> str:
    if not annotation:
        return "missing"
    if annotation.startswith("unapproved"):
        return "bypassed"
    parts = urlsplit(annotation)
    return "approved" if parts.scheme and parts.netloc else "invalid"


def _has_defaults(spec: Obj) -> bool:
    def has(s: Any) -> bool:
        if isinstance(s, dict):
            return s.get("default") is not None or any(has(v) for v in s.values())
        if isinstance(s, list):
            return any(has(v) for v in s)
        return False

    return any(has((v or {}).get("schema")) for v in spec.get("versions") or [] if isinstance(v, dict))
