"""Agents, Meshes and AgentRuns with their status, written to the Kubernetes API emulator over HTTP as the
operator would: create the object, then its status subresource."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from tests.fixtures.kube import RunningKubeAPI

from atomesh.api import dump

PLURALS = {"Agent": "agents", "Mesh": "meshes", "AgentRun": "agentruns"}


def path(kind: str, namespace: str, name: str | None = None) -> str:
    base = f"/apis/atomesh.io/v1alpha1/namespaces/{namespace}/{PLURALS[kind]}"
    return f"{base}/{name}" if name else base


def ensure_namespace(kube: RunningKubeAPI, namespace: str) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})


def create(kube: RunningKubeAPI, obj: BaseModel) -> dict[str, Any]:
    """Create `obj` (its status too); returns the object as the server stores it."""
    body = dump(obj)
    status = body.pop("status", None)
    metadata = {key: value for key, value in body["metadata"].items() if key in ("name", "namespace", "labels")}
    namespace = metadata.get("namespace") or "default"
    created: dict[str, Any] = kube.request("POST", path(body["kind"], namespace), {**body, "metadata": metadata})
    if status:
        created = set_status(kube, body["kind"], namespace, metadata["name"], status)
    return created


def set_status(kube: RunningKubeAPI, kind: str, namespace: str, name: str, status: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = kube.request(
        "PATCH", path(kind, namespace, name) + "/status", {"status": status}, "application/merge-patch+json"
    )
    return result


def seed(kube: RunningKubeAPI, objects: Iterable[BaseModel]) -> None:
    for obj in objects:
        create(kube, obj)
