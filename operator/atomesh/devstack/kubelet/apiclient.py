"""The few Kubernetes API calls the local kubelet makes, over HTTP with aiohttp.

The kubelet is a client like any other: it never reaches into the emulator's memory, so it
works against any API server that speaks the protocol.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

MERGE_PATCH = "application/merge-patch+json"


class ApiStatusError(Exception):
    """A non-2xx answer; `code` is the HTTP status, `body` the Status object if any."""

    def __init__(self, code: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"HTTP {code}: {message}")
        self.code = code
        self.body = body


def pod_path(namespace: str, name: str = "", sub: str = "") -> str:
    path = f"/api/v1/namespaces/{quote(namespace)}/pods"
    if name:
        path += f"/{quote(name)}"
    if sub:
        path += f"/{sub}"
    return path


class ApiClient:
    def __init__(self, server: str, token: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self._server = server.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # The context carries the cluster's CA and the client certificate, if the kubeconfig has them.
        connector = aiohttp.TCPConnector(ssl=tls) if tls is not None else None
        self._session = aiohttp.ClientSession(
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=None, connect=10),
            read_bufsize=2**20,
            connector=connector,
        )

    async def close(self) -> None:
        await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        timeout = aiohttp.ClientTimeout(total=30)
        async with self._session.request(
            method, self._server + path, data=data, headers=headers, params=params, timeout=timeout
        ) as response:
            text = await response.text()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text
            if response.status >= 400:
                raise ApiStatusError(response.status, payload)
            return payload

    async def get(self, path: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self.request("GET", path)
        except ApiStatusError as exc:
            if exc.code == 404:
                return None
            raise
        return result

    async def watch(self, path: str, params: Mapping[str, str]) -> AsyncIterator[dict[str, Any]]:
        """Watch events, one per line, until the server ends the stream."""
        query = {**params, "watch": "true"}
        async with self._session.get(self._server + path, params=query) as response:
            if response.status >= 400:
                raise ApiStatusError(response.status, await response.text())
            async for line in response.content:
                if line.strip():
                    yield json.loads(line)
