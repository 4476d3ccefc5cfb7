"""Field validation (`?fieldValidation=Strict|Warn|Ignore`), as kube-apiserver does it.

Unknown fields are those a real server drops while decoding: outside a CRD's structural schema
(unless `x-kubernetes-preserve-unknown-fields`), outside ObjectMeta in `metadata`, and outside the
top-level fields of the built-in kinds (their nested fields are not modelled, so never flagged), and
anywhere in a CustomResourceDefinition's spec (`crd_fields` models its types whole).
Duplicate fields come from the JSON body itself.

What the server answers, per kube-apiserver's handlers (create.go, update.go, patch.go):
- no directive means Warn; anything but the three values is 422 on `{Create,Update,Patch}Options`;
- Strict on POST/PUT: 400 `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding
  error: unknown field "spec.foo", ...`;
- Strict on json/merge/strategic patches: 422 Invalid, field `patch`, same `strict decoding error`;
- Warn: the write succeeds with one `Warning: 299 - "unknown field \\"spec.foo\\""` header per field;
- server-side apply: unknown fields fail whatever the directive (structured-merge-diff: 500
  `failed to create typed patch object (...): .spec.foo: field not declared in schema`); the
  directive governs only duplicate fields of the apply body (400 `error strict decoding YAML`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from atomesh.devstack.kube import crd_fields
from atomesh.devstack.kube.errors import ApiError, bad_request, cause, invalid
from atomesh.devstack.kube.resources import GroupResource, ResourceInfo

Obj = dict[str, Any]
Schema = dict[str, Any]
STRICT, WARN, IGNORE = "Strict", "Warn", "Ignore"
DIRECTIVES = (IGNORE, STRICT, WARN)
ROOT_KEEP = ("apiVersion", "kind", "metadata")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")

OBJECT_META = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)

_SPEC_STATUS = frozenset({"spec", "status"})
_CORE_EVENT = frozenset(
    {
        "involvedObject",
        "reason",
        "message",
        "source",
        "firstTimestamp",
        "lastTimestamp",
        "count",
        "type",
        "eventTime",
        "series",
        "action",
        "related",
        "reportingComponent",
        "reportingInstance",
    }
)
_EVENT_V1 = frozenset(
    {
        "eventTime",
        "series",
        "reportingController",
        "reportingInstance",
        "action",
        "reason",
        "regarding",
        "related",
        "note",
        "type",
        "deprecatedSource",
        "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp",
        "deprecatedCount",
    }
)
_RBAC = "rbac.authorization.k8s.io"
# Top-level fields (besides apiVersion/kind/metadata) of the built-in kinds, from their Go types.
BUILTIN_FIELDS: dict[GroupResource, frozenset[str]] = {
    ("", "namespaces"): _SPEC_STATUS,
    ("", "pods"): _SPEC_STATUS,
    ("", "services"): _SPEC_STATUS,
    ("", "configmaps"): frozenset({"data", "binaryData", "immutable"}),
    ("", "secrets"): frozenset({"data", "stringData", "type", "immutable"}),
    ("", "serviceaccounts"): frozenset({"secrets", "imagePullSecrets", "automountServiceAccountToken"}),
    ("", "events"): _CORE_EVENT,
    ("events.k8s.io", "events"): _EVENT_V1,
    ("apps", "deployments"): _SPEC_STATUS,
    ("batch", "jobs"): _SPEC_STATUS,
    ("coordination.k8s.io", "leases"): frozenset({"spec"}),
    ("networking.k8s.io", "networkpolicies"): frozenset({"spec"}),
    (_RBAC, "roles"): frozenset({"rules"}),
    (_RBAC, "clusterroles"): frozenset({"rules", "aggregationRule"}),
    (_RBAC, "rolebindings"): frozenset({"subjects", "roleRef"}),
    (_RBAC, "clusterrolebindings"): frozenset({"subjects", "roleRef"}),
    ("apiextensions.k8s.io", "customresourcedefinitions"): _SPEC_STATUS,
}


def directive(value: str | None, options_kind: str) -> str:
    """The request's directive; absent means Warn (kube-apiserver's default since field validation went GA)."""
    if not value:
        return WARN
    if value not in DIRECTIVES:
        supported = ", ".join(f'"{d}"' for d in DIRECTIVES)
        raise invalid(
            options_kind,
            "meta.k8s.io",
            "",
            [
                cause(
                    "fieldValidation",
                    f'Unsupported value: "{value}": supported values: {supported}',
                    "FieldValueNotSupported",
                )
            ],
        )
    return value


# unknown fields ---------------------------------------------------------------------------------


def unknown_fields(obj: Obj, info: ResourceInfo) -> list[str]:
    """Paths (`spec.foo`, `spec.items[0].bar`, `metadata.foo`) of the fields the server would drop."""
    found: list[str] = []
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        found.extend(f"metadata.{key}" for key in meta if key not in OBJECT_META)
    if info.schema and not info.builtin:
        _schema_unknown(obj, info.schema, "", found, root=True)
    else:
        known = BUILTIN_FIELDS.get(info.gr)
        if known is not None:
            found.extend(key for key in obj if key not in known and key not in ROOT_KEEP)
        if info.gr == CRDS:
            found.extend(crd_fields.unknown(obj))
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _schema_unknown(value: Any, schema: Schema, path: str, found: list[str], root: bool = False) -> None:
    """Mirrors `schema.prune_and_default`: reports exactly what it prunes."""
    if schema.get("x-kubernetes-int-or-string"):
        return
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keep_all = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or extra is True
        embedded = root or schema.get("x-kubernetes-embedded-resource")
        for key, item in value.items():
            if embedded and key in ROOT_KEEP:
                continue
            sub = properties.get(key)
            if sub is None and isinstance(extra, dict):
                sub = extra
            if sub is not None:
                if item is not None:
                    _schema_unknown(item, sub, _join(path, key), found)
            elif not keep_all:
                found.append(_join(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _schema_unknown(item, schema["items"], f"{path}[{index}]", found)


def prune(obj: Obj, info: ResourceInfo) -> None:
    """Drop unknown ObjectMeta fields and unknown top-level fields of built-in kinds (in place);
    CRD schemas are pruned by `schema.prune_and_default`."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k in meta if k not in OBJECT_META]:
            del meta[key]
    known = BUILTIN_FIELDS.get(info.gr) if info.builtin or not info.schema else None
    if known is not None:
        for key in [k for k in obj if k not in known and k not in ROOT_KEEP]:
            del obj[key]
    if info.gr == CRDS:
        crd_fields.prune(obj)


# duplicate fields -------------------------------------------------------------------------------


class _Duplicated(dict[str, Any]):
    """A JSON object that had repeated keys (the last value wins, as in Go)."""

    repeated: list[str]


def loads(raw: bytes | str) -> tuple[Any, list[str]]:
    """Parse JSON; returns (value, paths of duplicated fields). Raises ValueError like json.loads."""
    marked: list[bool] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        marked.append(True)
        duplicated = _Duplicated(obj)
        seen: set[str] = set()
        duplicated.repeated = []
        for key, _ in items:
            if key in seen and key not in duplicated.repeated:
                duplicated.repeated.append(key)
            seen.add(key)
        return duplicated

    value = json.loads(raw, object_pairs_hook=pairs)
    if not marked:  # the common case: no second walk
        return value, []
    duplicates: list[str] = []
    return _plain(value, "", duplicates), duplicates


def _plain(value: Any, path: str, duplicates: list[str]) -> Any:
    if isinstance(value, dict):
        if isinstance(value, _Duplicated):
            duplicates.extend(_join(path, key) for key in value.repeated)
        return {k: _plain(v, _join(path, k), duplicates) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", duplicates) for i, v in enumerate(value)]
    return value


# the request's check ----------------------------------------------------------------------------


def warning_header(text: str) -> str:
    """An RFC 7234 Warning header value as kube-apiserver writes it: `299 - "text"` with `"` and `\\` escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'299 - "{escaped}"'


CREATE, UPDATE, PATCH, APPLY = "create", "update", "patch", "apply"


@dataclass
class FieldCheck:
    """One write's field validation: what the client asked for, and the warnings to send back."""

    directive: str = IGNORE
    operation: str = CREATE
    duplicates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    patch_body: Any = None  # shown as the `patch` value of a 422, as kube-apiserver does

    def _warn(self, messages: list[str]) -> None:
        for message in messages:
            if message not in self.warnings:
                self.warnings.append(message)

    def warn(self, messages: list[str]) -> None:
        """Warnings a registry strategy adds (kube-apiserver's recorder drops repeats)."""
        self._warn(messages)

    def check_apply(self, info: ResourceInfo, body: Obj, namespace: str, name: str) -> None:
        """Server-side apply: unknown fields fail whatever the directive; duplicates follow it."""
        unknown = unknown_fields(body, info)
        if unknown:
            where = f"{namespace}/{name}" if info.namespaced else f"/{name}"
            errors = [f".{path}: field not declared in schema" for path in unknown]
            detail = errors[0] if len(errors) == 1 else "errors:\n" + "\n".join(f"  {e}" for e in errors)
            raise ApiError(
                500,
                f"failed to create typed patch object ({where}; {info.group_version}, Kind={info.kind}): {detail}",
                "InternalError",
            )
        messages = [f'duplicate field "{path}"' for path in self.duplicates]
        self.duplicates = []
        if messages and self.directive == STRICT:
            raise bad_request("error strict decoding YAML: " + ", ".join(messages))
        if messages and self.directive == WARN:
            self._warn(messages)

    def report(self, info: ResourceInfo, obj: Obj, previous: Obj | None = None) -> None:
        """Check the object about to be written (before pruning); `previous` is the stored object,
        whose own unknown fields (left by a since-changed schema) a real server would not see."""
        if self.directive == IGNORE:
            return
        unknown = unknown_fields(obj, info)
        if previous is not None and unknown:
            stale = set(unknown_fields(previous, info))
            unknown = [path for path in unknown if path not in stale]
        messages = [f'duplicate field "{path}"' for path in self.duplicates]
        messages += [f'unknown field "{path}"' for path in unknown]
        if not messages:
            return
        if self.directive == WARN:
            self._warn(messages)
            return
        strict = "strict decoding error: " + ", ".join(messages)
        if self.operation == PATCH:
            shown = json.dumps(self.patch_body, separators=(",", ":"))
            raise invalid("", "", "", [cause("patch", f"Invalid value: {json.dumps(shown)}: {strict}")])
        kind = obj.get("kind") or info.kind
        version = str(obj.get("apiVersion") or info.group_version).rpartition("/")[2]
        raise bad_request(f'{kind} in version "{version}" cannot be handled as a {info.kind}: {strict}')


__all__ = [
    "APPLY",
    "CREATE",
    "IGNORE",
    "PATCH",
    "STRICT",
    "UPDATE",
    "WARN",
    "FieldCheck",
    "directive",
    "loads",
    "prune",
    "unknown_fields",
    "warning_header",
]
