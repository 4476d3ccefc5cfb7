"""Pure: which Secrets/ConfigMaps a pod needs, and the files each volume holds.

Writing them to disk is `sandbox.py`'s job; here a volume becomes a list of
``(relative path, bytes, mode)`` so the rules are testable without a filesystem.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from atomesh.devstack.kubelet.layout import PodConfigError
from atomesh.devstack.kubelet.tokens import SERVICE_ACCOUNT_TOKEN, token_key, token_missing

SECRET = "Secret"  # noqa: S105 - a kind, not a password
CONFIG_MAP = "ConfigMap"
DEFAULT_MODE = 0o644

# (kind, name) in the pod's namespace -> decoded data; an absent key means "not found".
Resources = Mapping[tuple[str, str], Mapping[str, bytes]]


@dataclass(frozen=True)
class VolumeFile:
    path: str
    data: bytes
    mode: int


def decode_data(kind: str, obj: Mapping[str, Any]) -> dict[str, bytes]:
    """The data of a Secret (base64 values) or ConfigMap (text plus base64 binaryData)."""
    out: dict[str, bytes] = {}
    if kind == SECRET:
        for key, value in (obj.get("data") or {}).items():
            out[key] = base64.b64decode(value)
        for key, value in (obj.get("stringData") or {}).items():
            out[key] = str(value).encode()
        return out
    for key, value in (obj.get("data") or {}).items():
        out[key] = str(value).encode()
    for key, value in (obj.get("binaryData") or {}).items():
        out[key] = base64.b64decode(value)
    return out


def _source_refs(spec: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for volume in spec.get("volumes") or []:
        if "secret" in volume:
            yield SECRET, volume["secret"].get("secretName", "")
        if "configMap" in volume:
            yield CONFIG_MAP, volume["configMap"].get("name", "")
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                yield SECRET, source["secret"].get("name", "")
            if "configMap" in source:
                yield CONFIG_MAP, source["configMap"].get("name", "")
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for env_from in container.get("envFrom") or []:
            if "secretRef" in env_from:
                yield SECRET, env_from["secretRef"].get("name", "")
            if "configMapRef" in env_from:
                yield CONFIG_MAP, env_from["configMapRef"].get("name", "")
        for env in container.get("env") or []:
            value_from = env.get("valueFrom") or {}
            if "secretKeyRef" in value_from:
                yield SECRET, value_from["secretKeyRef"].get("name", "")
            if "configMapKeyRef" in value_from:
                yield CONFIG_MAP, value_from["configMapKeyRef"].get("name", "")


def collect_references(pod: Mapping[str, Any]) -> set[tuple[str, str]]:
    """Every (kind, name) of a Secret or ConfigMap the pod's env and volumes refer to."""
    return {ref for ref in _source_refs(pod.get("spec") or {}) if ref[1]}


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def field_value(pod: Mapping[str, Any], field_path: str) -> str:
    """The value of a downward API `fieldPath`; labels/annotations as ``key="value"`` lines."""
    meta = pod.get("metadata") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": (pod.get("spec") or {}).get("nodeName", ""),
        "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", ""),
        "status.podIP": (pod.get("status") or {}).get("podIP", ""),
        "status.hostIP": (pod.get("status") or {}).get("hostIP", ""),
    }
    if field_path in simple:
        return str(simple[field_path] or "")
    for section in ("labels", "annotations"):
        values: Mapping[str, str] = meta.get(section) or {}
        if field_path == f"metadata.{section}":
            return "\n".join(f"{key}={_quote(values[key])}" for key in sorted(values))
        prefix = f"metadata.{section}['"
        if field_path.startswith(prefix) and field_path.endswith("']"):
            return str(values.get(field_path[len(prefix) : -2], ""))
    raise PodConfigError(
        "CreateContainerConfigError",
        f"unsupported fieldPath {field_path!r}: the local kubelet supports metadata.name, metadata.namespace, "
        "metadata.uid, metadata.labels, metadata.annotations (also ['key']), spec.nodeName, "
        "spec.serviceAccountName, status.podIP and status.hostIP",
        retryable=False,
    )


def _safe_path(volume_name: str, path: str) -> str:
    """Volume item paths are relative and stay inside the volume, as the API server requires."""
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts:
        raise PodConfigError(
            "FailedMount",
            f'volume "{volume_name}": item path {path!r} must be relative and must not contain ".."',
            retryable=False,
        )
    return path


def _keyed_files(
    volume_name: str,
    kind: str,
    name: str,
    source: Mapping[str, Any],
    resources: Resources,
    default_mode: int,
) -> list[VolumeFile]:
    data = resources.get((kind, name))
    label = "secret" if kind == SECRET else "configmap"
    if data is None:
        if source.get("optional"):
            return []
        raise PodConfigError(
            "FailedMount", f'MountVolume.SetUp failed for volume "{volume_name}" : {label} "{name}" not found'
        )
    items = source.get("items")
    if not items:
        return [VolumeFile(key, value, default_mode) for key, value in sorted(data.items())]
    files = []
    for item in items:
        key = item.get("key", "")
        if key not in data:
            if source.get("optional"):
                continue
            raise PodConfigError(
                "FailedMount",
                f'MountVolume.SetUp failed for volume "{volume_name}" : {label} references non-existent key: {key}',
            )
        files.append(
            VolumeFile(_safe_path(volume_name, item.get("path") or key), data[key], int(item.get("mode", default_mode)))
        )
    return files


def _downward_files(
    pod: Mapping[str, Any], volume_name: str, source: Mapping[str, Any], default_mode: int
) -> list[VolumeFile]:
    files = []
    for item in source.get("items") or []:
        field_ref = item.get("fieldRef") or {}
        if not field_ref:
            raise PodConfigError(
                "FailedMount",
                f"downwardAPI item {item.get('path')!r}: only fieldRef is supported by the local kubelet",
                retryable=False,
            )
        value = field_value(pod, field_ref.get("fieldPath", ""))
        files.append(
            VolumeFile(
                _safe_path(volume_name, item.get("path", "")), value.encode(), int(item.get("mode", default_mode))
            )
        )
    return files


def build_volume_files(pod: Mapping[str, Any], volume: Mapping[str, Any], resources: Resources) -> list[VolumeFile]:
    """The files of one volume (empty for emptyDir); PodConfigError when a source is missing."""
    name = volume.get("name", "")
    if "emptyDir" in volume:
        return []
    if "secret" in volume:
        source = volume["secret"]
        mode = int(source.get("defaultMode", DEFAULT_MODE))
        return _keyed_files(name, SECRET, source.get("secretName", ""), source, resources, mode)
    if "configMap" in volume:
        source = volume["configMap"]
        mode = int(source.get("defaultMode", DEFAULT_MODE))
        return _keyed_files(name, CONFIG_MAP, source.get("name", ""), source, resources, mode)
    if "downwardAPI" in volume:
        source = volume["downwardAPI"]
        return _downward_files(pod, name, source, int(source.get("defaultMode", DEFAULT_MODE)))
    if "projected" in volume:
        projected = volume["projected"]
        mode = int(projected.get("defaultMode", DEFAULT_MODE))
        files: list[VolumeFile] = []
        for source in projected.get("sources") or []:
            if "secret" in source:
                files += _keyed_files(name, SECRET, source["secret"].get("name", ""), source["secret"], resources, mode)
            elif "configMap" in source:
                cm = source["configMap"]
                files += _keyed_files(name, CONFIG_MAP, cm.get("name", ""), cm, resources, mode)
            elif "downwardAPI" in source:
                files += _downward_files(pod, name, source["downwardAPI"], mode)
            elif "serviceAccountToken" in source:
                token = resources.get((SERVICE_ACCOUNT_TOKEN, token_key(source["serviceAccountToken"])))
                if token is None:
                    raise PodConfigError("FailedMount", token_missing(name, pod))
                path = _safe_path(name, source["serviceAccountToken"].get("path", ""))
                files.append(VolumeFile(path, token["token"], mode))
        return files
    kinds = sorted(key for key in volume if key != "name")
    raise PodConfigError(
        "FailedMount",
        f'volume "{name}" of type {kinds}: the local kubelet supports emptyDir, configMap, secret, '
        "downwardAPI and projected volumes",
        retryable=False,
    )
