"""The LiteLLM proxy's key management API over HTTP (litellm/proxy/management_endpoints/
key_management_endpoints.py): `POST /key/generate`, `POST /key/update`, `POST /key/delete` and
`GET /key/list`, authenticated with the proxy's master key as `Authorization: Bearer`.

Errors become `GatewayRefused` (4xx) or `GatewayUnavailable` (connection, timeout, 5xx), their text
redacted of the master key and of anything shaped like a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3

from atomesh.gateway.errors import GatewayError, GatewayRefused, GatewayUnavailable, redact

TIMEOUT_SECONDS = 15.0


class LiteLLMKeys:
    """`KeyGateway` on a LiteLLM proxy at `base_url` (its root, e.g. http://litellm:4000)."""

    def __init__(self, base_url: str, master_key: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._base = base_url.rstrip("/")
        self._master_key = master_key
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)

    def find_key(self, alias: str) -> Mapping[str, Any] | None:
        query = urlencode({"key_alias": alias, "return_full_object": "true"})
        answer = self._call("GET", f"/key/list?{query}")
        # Older proxies filter by alias loosely; only an exact match is ours.
        keys = [key for key in answer.get("keys") or [] if isinstance(key, dict) and key.get("key_alias") == alias]
        return keys[0] if keys else None

    def generate_key(self, body: Mapping[str, Any]) -> str:
        answer = self._call("POST", "/key/generate", body)
        key = answer.get("key")
        if not isinstance(key, str) or not key:
            raise GatewayError("the gateway's /key/generate answer has no `key`")
        return key

    def update_key(self, token: str, body: Mapping[str, Any]) -> None:
        self._call("POST", "/key/update", {**body, "key": token})

    def delete_key(self, alias: str) -> None:
        self._call("POST", "/key/delete", {"key_aliases": [alias]})

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._master_key}", "Accept": "application/json"}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        try:
            response = self._http.request(method, self._base + path, body=payload, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise GatewayUnavailable(f"{method} {path}: {redact(str(exc), self._master_key)}") from None
        text = response.data.decode("utf-8", "replace")
        if response.status >= 500:
            raise GatewayUnavailable(f"{method} {path}: HTTP {response.status}: {self._message(text)}")
        if response.status >= 400:
            raise GatewayRefused(response.status, f"{method} {path}: {self._message(text)}")
        try:
            answer = json.loads(text)
        except ValueError:
            raise GatewayError(f"{method} {path}: the answer is not JSON") from None
        return answer if isinstance(answer, dict) else {}

    def _message(self, text: str) -> str:
        """The error's message: LiteLLM's `{"error": {"message"}}` or FastAPI's `{"detail"}`."""
        try:
            answer = json.loads(text)
        except ValueError:
            return redact(text[:300], self._master_key)
        message: Any = answer
        if isinstance(answer, dict):
            error = answer.get("error")
            message = error.get("message") if isinstance(error, dict) else answer.get("detail", answer)
        return redact(str(message)[:300], self._master_key)
