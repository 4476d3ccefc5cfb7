"""The port: what the operator asks of an LLM gateway's key API. Bodies and answers are the gateway's
documented JSON fields (LiteLLM's `/key/*`), so deciding what to send stays in `core.gatewaykey`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class KeyGateway(Protocol):
    def find_key(self, alias: str) -> Mapping[str, Any] | None:
        """The key with this alias as the gateway describes it (its hash as `token`, never its value)."""
        ...

    def generate_key(self, body: Mapping[str, Any]) -> str:
        """Create a key (`/key/generate` fields); returns its value, which the gateway will not tell again."""
        ...

    def update_key(self, token: str, body: Mapping[str, Any]) -> None:
        """Change the key's settings (`/key/update` fields); `token` is its hash."""
        ...

    def delete_key(self, alias: str) -> None:
        """Delete the key with this alias."""
        ...
