"""The Kubernetes port: the few operations the controller needs, behind a protocol.

`RestKube` speaks to a real (or emulated) API server with the kubernetes client's transport
(kubeconfig or in-cluster auth); `FakeKube` in `atomesh.kube.fake` keeps objects in memory
for unit tests of anything above this layer. Creation is idempotent: AlreadyExists returns the
existing object, because a controller that restarts must be able to redo any step.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

import kubernetes

from atomesh.kube.resources import Resource

Body = dict[str, Any]
MERGE_PATCH = "application/merge-patch+json"


class KubeError(Exception):
    """An API error: HTTP status, Kubernetes reason and message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def transient(self) -> bool:
        """Worth retrying: conflicts, throttling, server errors, connection failures."""
        return self.status in (0, 409, 429) or self.status >= 500


class Kube(Protocol):
    def get(self, resource: Resource, namespace: str, name: str) -> Body | None: ...

    def list(self, resource: Resource, namespace: str, labels: dict[str, str] | None = None) -> list[Body]: ...

    def create(self, resource: Resource, body: Body) -> tuple[Body, bool]:
        """Create `body`, or return the existing object of that name; the flag says whether it was created."""
        ...

    def patch(self, resource: Resource, namespace: str, name: str, patch: Body) -> Body | None:
        """JSON merge patch of the object; None when it does not exist."""
        ...

    def patch_status(self, resource: Resource, namespace: str, name: str, status: Body) -> Body | None:
        """Merge `status` into the status subresource; None when the object does not exist."""
        ...

    def delete(self, resource: Resource, namespace: str, name: str) -> bool:
        """Delete (background propagation); False when it did not exist."""
        ...


def _selector(labels: dict[str, str] | None) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))


class RestKube:
    """Kube over HTTP with the kubernetes client's configuration and connection pool."""

    def __init__(self, api_client: kubernetes.client.ApiClient, timeout: float = 30.0) -> None:
        self._api = api_client
        self._timeout = timeout
        self._lock = threading.Lock()
        self.writes = 0  # counted for the benchmark and the restart-safety tests
        self.reads = 0  # GETs and LISTs, counted for the benchmark

    @classmethod
    def from_kubeconfig(cls, path: str | None = None, context: str | None = None) -> RestKube:
        """The given kubeconfig, else $KUBECONFIG/~/.kube/config, else the in-cluster service account."""
        try:
            api = kubernetes.config.new_client_from_config(config_file=path, context=context)  # type: ignore[no-untyped-call]
        except kubernetes.config.ConfigException:
            if path is not None:
                raise
            kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
            api = kubernetes.client.ApiClient()
        return cls(api)

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]

    def _request(
        self, method: str, path: str, body: Any = None, content_type: str | None = None, query: list[Any] | None = None
    ) -> Body:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        serialized = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        method_, url, headers_, body_, post = serialized
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1
        try:
            response = self._api.call_api(
                method_, url, header_params=headers_, body=body_, post_params=post, _request_timeout=self._timeout
            )
            response.read()  # type: ignore[no-untyped-call]
            data: Any = response.data
            status = response.status
        except kubernetes.client.ApiException as exc:
            data = exc.body
            status = exc.status or 0
        except OSError as exc:
            raise KubeError(0, "ConnectionFailed", str(exc)) from exc
        # Parsed from the bytes as they came: a decoded copy of a LIST of thousands of objects is megabytes.
        parsed: Body = json.loads(data) if data else {}
        if status >= 400:
            text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
            raise KubeError(status, str(parsed.get("reason") or "Error"), str(parsed.get("message") or text))
        return parsed

    def get(self, resource: Resource, namespace: str, name: str) -> Body | None:
        try:
            return self._request("GET", resource.path(namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, resource: Resource, namespace: str, labels: dict[str, str] | None = None) -> list[Body]:
        query = [("labelSelector", _selector(labels))] if labels else []
        items: list[Body] = self._request("GET", resource.path(namespace), query=query).get("items") or []
        return items

    def create(self, resource: Resource, body: Body) -> tuple[Body, bool]:
        body = {"apiVersion": resource.api_version, "kind": resource.kind, **body}
        namespace = body["metadata"]["namespace"]
        try:
            return self._request("POST", resource.path(namespace), body=body), True
        except KubeError as exc:
            if exc.status != 409:
                raise
        existing = self.get(resource, namespace, body["metadata"]["name"])
        if existing is None:  # deleted between the two calls: let the caller retry
            raise KubeError(409, "AlreadyExists", f"{resource.kind} {body['metadata']['name']} is being replaced")
        return existing, False

    def patch(self, resource: Resource, namespace: str, name: str, patch: Body) -> Body | None:
        try:
            return self._request("PATCH", resource.path(namespace, name), body=patch, content_type=MERGE_PATCH)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def patch_status(self, resource: Resource, namespace: str, name: str, status: Body) -> Body | None:
        path = resource.path(namespace, name, "status" if resource.has_status else None)
        try:
            return self._request("PATCH", path, body={"status": status}, content_type=MERGE_PATCH)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def delete(self, resource: Resource, namespace: str, name: str) -> bool:
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}
        try:
            self._request("DELETE", resource.path(namespace, name), body=body)
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True
