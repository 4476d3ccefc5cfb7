"""harness.kind → adapter."""

from __future__ import annotations

from collections.abc import Callable

from atomesh.harness.claude_code import ClaudeCode
from atomesh.harness.litellm_loop import LiteLLMLoop
from atomesh.harness.opencode import OpenCode
from atomesh.harness.protocol import Harness, ModelAccess

HARNESSES: dict[str, Callable[[ModelAccess], Harness]] = {
    "claude-code": ClaudeCode,
    "opencode": OpenCode,
    "litellm": LiteLLMLoop,
}


def build_harness(kind: str, access: ModelAccess) -> Harness:
    try:
        factory = HARNESSES[kind]
    except KeyError:
        raise ValueError(f"unknown harness.kind {kind!r}: use one of {sorted(HARNESSES)}") from None
    return factory(access)
