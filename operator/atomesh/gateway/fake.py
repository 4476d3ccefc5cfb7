"""An in-memory `KeyGateway` with LiteLLM's shapes and rules: a generated key is `sk-` plus random text and
is kept only as its sha256 `token`; aliases are unique; `/key/list` returns the full key objects; an
update of a key that does not exist is refused with 404 and a delete with 400, as the proxy does."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from atomesh.gateway.errors import GatewayError, GatewayRefused

KEY_FIELDS = ("key_alias", "models", "max_budget", "budget_duration", "metadata", "tpm_limit", "rpm_limit")


def hash_key(key: str) -> str:
    """LiteLLM's `hash_token`: sha256 of the key, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class FakeKeys:
    """`models`: the proxy's model names (None: any); `failure`: raised by every call while set."""

    def __init__(self, models: frozenset[str] | None = None) -> None:
        self.keys: dict[str, dict[str, Any]] = {}
        self.models = models
        self.failure: GatewayError | None = None
        self.calls: list[str] = []

    def find_key(self, alias: str) -> Mapping[str, Any] | None:
        self._enter("list")
        return next((dict(key) for key in self.keys.values() if key.get("key_alias") == alias), None)

    def generate_key(self, body: Mapping[str, Any]) -> str:
        self._enter("generate")
        alias = body.get("key_alias")
        if alias is not None and any(key.get("key_alias") == alias for key in self.keys.values()):
            raise GatewayRefused(400, f"Unique key aliases across all keys are required, key_alias={alias}")
        self._check_models(body)
        key = "sk-" + secrets.token_urlsafe(16)
        token = hash_key(key)
        self.keys[token] = {"token": token, "spend": 0.0, **{name: body.get(name) for name in KEY_FIELDS}}
        return key

    def update_key(self, token: str, body: Mapping[str, Any]) -> None:
        self._enter("update")
        if token not in self.keys:
            # The proxy's own words for a missing key (key_management_endpoints.update_key_fn).
            raise GatewayRefused(404, "{'error': 'Team not found, passed team_id=None'}")
        self._check_models(body)
        self.keys[token].update({name: body[name] for name in KEY_FIELDS if name in body})

    def delete_key(self, alias: str) -> None:
        self._enter("delete")
        tokens = [token for token, key in self.keys.items() if key.get("key_alias") == alias]
        if not tokens:
            raise GatewayRefused(400, f"Failed to delete all keys. Keys not found: {[alias]}")
        for token in tokens:
            del self.keys[token]

    def _enter(self, call: str) -> None:
        self.calls.append(call)
        if self.failure is not None:
            raise self.failure

    def _check_models(self, body: Mapping[str, Any]) -> None:
        unknown = [model for model in body.get("models") or [] if self.models is not None and model not in self.models]
        if unknown:
            raise GatewayRefused(400, f"Invalid model(s) for key: {unknown}")
