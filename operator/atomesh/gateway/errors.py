"""Errors of the gateway port. Messages never carry a key: the gateway's own text is redacted first."""

from __future__ import annotations

import re

# LiteLLM's auth errors quote the key they were given (abbreviated, but still a key's prefix and tail).
_KEY_LIKE = re.compile(r"sk-[A-Za-z0-9_\-.*]+")


def redact(text: str, *secrets: str) -> str:
    """`text` without any of `secrets` and without anything shaped like a LiteLLM key."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _KEY_LIKE.sub("sk-***", text)


class GatewayError(Exception):
    """A key API call failed."""

    transient = False


class GatewayRefused(GatewayError):
    """The gateway answered no (401/403: the master key; 400: a field such as an unknown model); retrying the
    same request gets the same answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or failed (5xx, timeout); worth retrying."""

    transient = True
