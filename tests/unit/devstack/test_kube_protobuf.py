"""The protobuf request-body decoder of the Kubernetes API emulator, on bodies recorded from
kubectl 1.37 (tests/fixtures/kube_protobuf/) and on bodies built by a tiny encoder here."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from atomesh.devstack.kube import protobuf

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "kube_protobuf"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _len(number: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _entry(number: int, key: str, value: bytes | str) -> bytes:
    return _len(number, _len(1, key) + _len(2, value))


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _len(1, api_version) + _len(2, kind)
    return protobuf.MAGIC + _len(1, type_meta) + _len(2, raw) + _len(3, "") + _len(4, "")


def test_recorded_kubectl_create_namespace() -> None:
    body = (RECORDED / "create-namespace-team-a.bin").read_bytes()
    assert protobuf.decode(body) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "team-a"},
        "spec": {},
        "status": {},
    }


def test_recorded_kubectl_create_secret_generic() -> None:
    body = (RECORDED / "create-secret-generic-model-key.bin").read_bytes()
    assert protobuf.decode(body) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "model-key", "namespace": "team-a"},
        "data": {"api-key": base64.b64encode(b"sk-abc").decode()},
    }


def test_recorded_kubectl_create_configmap_literal_file_and_binary_file() -> None:
    body = (RECORDED / "create-configmap-cm1.bin").read_bytes()
    assert protobuf.decode(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm1"},
        "data": {"a": "b", "prompt.txt": "hello-file\n"},
        "binaryData": {"blob.bin": base64.b64encode(b"bin\xff\xfe\x00data").decode()},
    }


def test_recorded_kubectl_create_serviceaccount() -> None:
    body = (RECORDED / "create-serviceaccount-sa1.bin").read_bytes()
    assert protobuf.decode(body) == {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa1"}}


def test_recorded_deployment_is_an_unsupported_kind_naming_the_workaround() -> None:
    body = (RECORDED / "create-deployment-d.bin").read_bytes()
    with pytest.raises(protobuf.UnsupportedKind) as info:
        protobuf.decode(body)
    assert (info.value.api_version, info.value.kind) == ("apps/v1", "Deployment")
    assert "apps/v1 Deployment" in str(info.value)
    assert "kubectl apply -f" in str(info.value)


def test_object_meta_fields_and_unknown_fields_skipped() -> None:
    owner = _len(1, "Agent") + _len(3, "a1") + _len(4, "u-1") + _len(5, "atomesh.io/v1") + _int(6, 1) + _int(7, 1)
    creation_timestamp = _len(8, _int(1, 1_700_000_000) + _int(2, 5))
    meta = (
        _len(1, "")
        + _len(2, "gen-")
        + _len(3, "ns")
        + _len(4, "/self/link")
        + _len(5, "uid-9")
        + _len(6, "42")
        + _int(7, 3)
        + creation_timestamp
        + _entry(11, "app", "x")
        + _entry(11, "tier", "")
        + _entry(12, "note", "hi")
        + _len(13, owner)
        + _len(14, "a/b")
        + _len(14, "c/d")
        + _len(17, _len(1, "kubectl"))  # managedFields
        + b"\x9d\x01\x01\x02\x03\x04"  # an unknown fixed32 field 19
        + b"\x99\x01"
        + bytes(8)  # an unknown fixed64 field 19
    )
    secret = _len(1, meta) + _len(3, "kubernetes.io/basic-auth") + _entry(4, "username", "u") + _int(5, 1)
    decoded = protobuf.decode(_envelope("v1", "Secret", secret))
    assert decoded == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "generateName": "gen-",
            "namespace": "ns",
            "uid": "uid-9",
            "resourceVersion": "42",
            "generation": 3,
            "labels": {"app": "x", "tier": ""},
            "annotations": {"note": "hi"},
            "ownerReferences": [
                {
                    "kind": "Agent",
                    "name": "a1",
                    "uid": "u-1",
                    "apiVersion": "atomesh.io/v1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "finalizers": ["a/b", "c/d"],
        },
        "type": "kubernetes.io/basic-auth",
        "stringData": {"username": "u"},
        "immutable": True,
    }


def test_secret_data_bytes_become_base64_and_empty_values_survive() -> None:
    raw = _len(1, _len(1, "s")) + _entry(2, "bin", b"\x00\xff") + _len(2, _len(1, "empty"))
    decoded = protobuf.decode(_envelope("v1", "Secret", raw))
    assert decoded["data"] == {"bin": "AP8=", "empty": ""}


def test_configmap_and_serviceaccount_fields() -> None:
    cm = _len(1, _len(1, "c")) + _entry(2, "k", "v") + _entry(3, "b", b"\x01") + _int(4, 0)
    assert protobuf.decode(_envelope("v1", "ConfigMap", cm)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"k": "v"},
        "binaryData": {"b": "AQ=="},
        "immutable": False,
    }
    ref = _len(1, "Secret") + _len(3, "tok") + _len(2, "default")
    sa = _len(1, _len(1, "sa")) + _len(2, ref) + _len(3, _len(1, "pull")) + _int(4, 0)
    assert protobuf.decode(_envelope("v1", "ServiceAccount", sa)) == {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "sa"},
        "secrets": [{"kind": "Secret", "name": "tok", "namespace": "default"}],
        "imagePullSecrets": [{"name": "pull"}],
        "automountServiceAccountToken": False,
    }


def test_namespace_spec_and_status() -> None:
    ns = _len(1, _len(1, "n")) + _len(2, _len(1, "kubernetes")) + _len(3, _len(1, "Active"))
    assert protobuf.decode(_envelope("v1", "Namespace", ns)) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "n"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"kind":"Secret"}', "magic"),
        (protobuf.MAGIC + b"\x0a\x05ab", "past the end"),
        (protobuf.MAGIC + b"\x0a", "truncated varint"),
        (protobuf.MAGIC + b"\x0b", "wire type 3"),
        (protobuf.MAGIC + _len(3, "gzip"), "contentEncoding"),
        (_envelope("v1", "Secret", _len(3, b"\xff")), "not UTF-8"),
        (_envelope("v1", "Secret", _int(1, 5)), "length-delimited"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(protobuf.ProtobufError, match=message):
        protobuf.decode(body)


def test_unknown_envelope_without_kind_is_unsupported() -> None:
    with pytest.raises(protobuf.UnsupportedKind):
        protobuf.decode(protobuf.MAGIC)
