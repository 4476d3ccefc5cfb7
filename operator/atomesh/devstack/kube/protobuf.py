"""Decoding of `application/vnd.kubernetes.protobuf` request bodies into the JSON a JSON client sends.

kubectl's generators (`kubectl create namespace|secret|configmap|serviceaccount|role|rolebinding`,
`kubectl auth can-i|whoami`, `kubectl create token`) encode their bodies as protobuf whenever the
kind is a built-in one, and client-go never falls back to JSON on a
415 for protobuf (only for CBOR). So the emulator decodes those few kinds:

    "k8s\\x00" + runtime.Unknown{typeMeta{apiVersion=1, kind=2}=1, raw=2, contentEncoding=3, contentType=4}

where `raw` is the object message (field numbers from k8s.io/api core/v1 and apimachinery meta/v1
generated.proto). Fields outside the tables below (selfLink, creationTimestamp, managedFields, …)
are skipped, as a JSON client would leave them out or null. Pure and dependency-free.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"
VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5

Obj = dict[str, Any]


class ProtobufError(ValueError):
    """The body is not a well-formed Kubernetes protobuf envelope."""


class UnsupportedKind(ProtobufError):
    """A well-formed envelope around a kind this decoder has no field table for."""

    def __init__(self, api_version: str, kind: str) -> None:
        self.api_version, self.kind = api_version, kind
        supported = ", ".join(f"{v} {k}" for v, k in sorted(MESSAGES_BY_KIND))
        super().__init__(
            f"the emulator decodes protobuf request bodies only for {supported}, not {api_version} {kind}; "
            f"send JSON instead, e.g. `kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`"
        )


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise ProtobufError("varint longer than 10 bytes")


def wire_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field: an int for varints, bytes for length-delimited
    fields; fixed32/fixed64 values are skipped (no supported field uses them)."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == VARINT:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == LENGTH:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError(f"field {number} runs past the end of its message")
            yield number, wire, buf[pos : pos + size]
            pos += size
        elif wire in (FIXED64, FIXED32):
            pos += 8 if wire == FIXED64 else 4
            if pos > len(buf):
                raise ProtobufError(f"truncated fixed-width field {number}")
        else:
            raise ProtobufError(f"unsupported wire type {wire} (field {number})")


@dataclass(frozen=True)
class Field:
    """How one protobuf field becomes one JSON field.

    type: "string", "bytes" (base64 in JSON), "int", "bool", "message", "map-string", "map-bytes".
    Empty strings and zero ints are dropped (Kubernetes' JSON tags are `omitempty`); messages and
    booleans (pointers in Go, so only on the wire when set) are kept."""

    name: str
    type: str
    repeated: bool = False
    message: str = ""


def _decode_scalar(field: Field, wire: int, value: int | bytes) -> Any:
    if field.type in ("string", "bytes", "message", "map-string", "map-bytes"):
        if not isinstance(value, bytes):
            raise ProtobufError(f"{field.name}: expected a length-delimited field")
        if field.type == "string":
            return _text(value, field.name)
        if field.type == "bytes":
            return base64.b64encode(value).decode("ascii")
        if field.type == "message":
            return decode_message(field.message, value)
        return _map_entry(field, value)
    if not isinstance(value, int):
        raise ProtobufError(f"{field.name}: expected a varint")
    if field.type == "bool":
        return bool(value)
    return value - (1 << 64) if value >= 1 << 63 else value  # int64 two's complement


def _text(value: bytes, name: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtobufError(f"{name}: not UTF-8") from exc


def _map_entry(field: Field, entry: bytes) -> tuple[str, str]:
    key, raw = "", b""
    for number, _, value in wire_fields(entry):
        if not isinstance(value, bytes):
            raise ProtobufError(f"{field.name}: malformed map entry")
        if number == 1:
            key = _text(value, field.name)
        elif number == 2:
            raw = value
    if field.type == "map-bytes":
        return key, base64.b64encode(raw).decode("ascii")
    return key, _text(raw, field.name)


def decode_message(name: str, buf: bytes) -> Obj:
    """The JSON form of message `name` (a key of MESSAGES) encoded in `buf`."""
    table = MESSAGES[name]
    out: Obj = {}
    for number, wire, value in wire_fields(buf):
        field = table.get(number)
        if field is None:
            continue
        decoded = _decode_scalar(field, wire, value)
        if field.type.startswith("map-"):
            out.setdefault(field.name, {})[decoded[0]] = decoded[1]
        elif field.repeated:
            out.setdefault(field.name, []).append(decoded)
        elif (field.type == "string" and decoded == "") or (field.type == "int" and decoded == 0):
            out.pop(field.name, None)
        else:
            out[field.name] = decoded
    return out


STR, INT, BOOL = "string", "int", "bool"
MESSAGES: dict[str, dict[int, Field]] = {
    "ObjectMeta": {
        1: Field("name", STR),
        2: Field("generateName", STR),
        3: Field("namespace", STR),
        5: Field("uid", STR),
        6: Field("resourceVersion", STR),
        7: Field("generation", INT),
        11: Field("labels", "map-string"),
        12: Field("annotations", "map-string"),
        13: Field("ownerReferences", "message", repeated=True, message="OwnerReference"),
        14: Field("finalizers", STR, repeated=True),
    },
    "OwnerReference": {
        1: Field("kind", STR),
        3: Field("name", STR),
        4: Field("uid", STR),
        5: Field("apiVersion", STR),
        6: Field("controller", BOOL),
        7: Field("blockOwnerDeletion", BOOL),
    },
    "ObjectReference": {
        1: Field("kind", STR),
        2: Field("namespace", STR),
        3: Field("name", STR),
        4: Field("uid", STR),
        5: Field("apiVersion", STR),
        6: Field("resourceVersion", STR),
        7: Field("fieldPath", STR),
    },
    "LocalObjectReference": {1: Field("name", STR)},
    "Namespace": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("spec", "message", message="NamespaceSpec"),
        3: Field("status", "message", message="NamespaceStatus"),
    },
    "NamespaceSpec": {1: Field("finalizers", STR, repeated=True)},
    "NamespaceStatus": {1: Field("phase", STR)},
    "Secret": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("data", "map-bytes"),
        3: Field("type", STR),
        4: Field("stringData", "map-string"),
        5: Field("immutable", BOOL),
    },
    "ConfigMap": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("data", "map-string"),
        3: Field("binaryData", "map-bytes"),
        4: Field("immutable", BOOL),
    },
    "ServiceAccount": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("secrets", "message", repeated=True, message="ObjectReference"),
        3: Field("imagePullSecrets", "message", repeated=True, message="LocalObjectReference"),
        4: Field("automountServiceAccountToken", BOOL),
    },
    # rbac.authorization.k8s.io/v1 (`kubectl create role|rolebinding|clusterrole|clusterrolebinding`)
    "PolicyRule": {
        1: Field("verbs", STR, repeated=True),
        2: Field("apiGroups", STR, repeated=True),
        3: Field("resources", STR, repeated=True),
        4: Field("resourceNames", STR, repeated=True),
        5: Field("nonResourceURLs", STR, repeated=True),
    },
    "Role": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("rules", "message", repeated=True, message="PolicyRule"),
    },
    "ClusterRole": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("rules", "message", repeated=True, message="PolicyRule"),
        3: Field("aggregationRule", "message", message="AggregationRule"),
    },
    "AggregationRule": {1: Field("clusterRoleSelectors", "message", repeated=True, message="LabelSelector")},
    "LabelSelector": {
        1: Field("matchLabels", "map-string"),
        2: Field("matchExpressions", "message", repeated=True, message="LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {
        1: Field("key", STR),
        2: Field("operator", STR),
        3: Field("values", STR, repeated=True),
    },
    "Subject": {1: Field("kind", STR), 2: Field("apiGroup", STR), 3: Field("name", STR), 4: Field("namespace", STR)},
    "RoleRef": {1: Field("apiGroup", STR), 2: Field("kind", STR), 3: Field("name", STR)},
    "RoleBinding": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("subjects", "message", repeated=True, message="Subject"),
        3: Field("roleRef", "message", message="RoleRef"),
    },
    # authorization.k8s.io/v1 and authentication.k8s.io/v1 (`kubectl auth can-i|whoami`, `create token`)
    "ResourceAttributes": {
        1: Field("namespace", STR),
        2: Field("verb", STR),
        3: Field("group", STR),
        4: Field("version", STR),
        5: Field("resource", STR),
        6: Field("subresource", STR),
        7: Field("name", STR),
    },
    "NonResourceAttributes": {1: Field("path", STR), 2: Field("verb", STR)},
    "SelfSubjectAccessReviewSpec": {
        1: Field("resourceAttributes", "message", message="ResourceAttributes"),
        2: Field("nonResourceAttributes", "message", message="NonResourceAttributes"),
    },
    "SubjectAccessReviewSpec": {
        1: Field("resourceAttributes", "message", message="ResourceAttributes"),
        2: Field("nonResourceAttributes", "message", message="NonResourceAttributes"),
        3: Field("user", STR),
        4: Field("groups", STR, repeated=True),
        6: Field("uid", STR),
    },
    "SelfSubjectAccessReview": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("spec", "message", message="SelfSubjectAccessReviewSpec"),
    },
    "SubjectAccessReview": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("spec", "message", message="SubjectAccessReviewSpec"),
    },
    "SelfSubjectRulesReview": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("spec", "message", message="SelfSubjectRulesReviewSpec"),
    },
    "SelfSubjectRulesReviewSpec": {1: Field("namespace", STR)},
    "SelfSubjectReview": {1: Field("metadata", "message", message="ObjectMeta")},
    "TokenRequest": {
        1: Field("metadata", "message", message="ObjectMeta"),
        2: Field("spec", "message", message="TokenRequestSpec"),
    },
    "TokenRequestSpec": {1: Field("audiences", STR, repeated=True), 4: Field("expirationSeconds", INT)},
}
RBAC_V1 = "rbac.authorization.k8s.io/v1"
AUTHORIZATION_V1 = "authorization.k8s.io/v1"
MESSAGES_BY_KIND: dict[tuple[str, str], str] = {
    (RBAC_V1, "Role"): "Role",
    (RBAC_V1, "ClusterRole"): "ClusterRole",
    (RBAC_V1, "RoleBinding"): "RoleBinding",
    (RBAC_V1, "ClusterRoleBinding"): "RoleBinding",
    (AUTHORIZATION_V1, "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    (AUTHORIZATION_V1, "SubjectAccessReview"): "SubjectAccessReview",
    (AUTHORIZATION_V1, "LocalSubjectAccessReview"): "SubjectAccessReview",
    (AUTHORIZATION_V1, "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    ("v1", "ConfigMap"): "ConfigMap",
    ("v1", "Namespace"): "Namespace",
    ("v1", "Secret"): "Secret",
    ("v1", "ServiceAccount"): "ServiceAccount",
}


def unwrap(body: bytes) -> tuple[str, str, bytes]:
    """(apiVersion, kind, raw object message) of a `k8s\\x00` + runtime.Unknown body."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf magic k8s\\x00")
    api_version = kind = ""
    raw = b""
    for number, _, value in wire_fields(body[len(MAGIC) :]):
        if not isinstance(value, bytes):
            raise ProtobufError(f"runtime.Unknown field {number}: expected a length-delimited field")
        if number == 1:
            for sub, _, text in wire_fields(value):
                if isinstance(text, bytes) and sub in (1, 2):
                    if sub == 1:
                        api_version = _text(text, "apiVersion")
                    else:
                        kind = _text(text, "kind")
        elif number == 2:
            raw = value
        elif number == 3 and value:
            raise ProtobufError(f"unsupported contentEncoding {value.decode('utf-8', 'replace')!r}")
    return api_version, kind, raw


def decode(body: bytes) -> Obj:
    """The JSON object a JSON client would have sent for this protobuf request body."""
    api_version, kind, raw = unwrap(body)
    name = MESSAGES_BY_KIND.get((api_version, kind))
    if name is None:
        raise UnsupportedKind(api_version, kind)
    return {"apiVersion": api_version, "kind": kind, **decode_message(name, raw)}
