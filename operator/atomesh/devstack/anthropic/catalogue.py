"""The models the emulator serves, as the Models API describes them, and the limits it holds
requests to. A model not listed here is answered 404 not_found_error, as the API answers a model
that does not exist.

The real names are those the example agents and tests name, and the dated snapshot ids the
harnesses ask for by themselves (OpenCode titles a session with `claude-haiku-4-5-20251001`; the
SDK's `ModelParam` lists both dated ids); the emulator's own (emulator-*) let a test name a model
no price list knows. Release dates are not the emulator's to claim: the Models
API says `created_at` "may be set to an epoch value if the release date is unknown", so it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNKNOWN_RELEASE = "1970-01-01T00:00:00Z"
CONTEXT_WINDOW = 200_000


@dataclass(frozen=True)
class Model:
    id: str
    display_name: str
    max_tokens: int  # the largest `max_tokens` a request may ask of it
    max_input_tokens: int = CONTEXT_WINDOW

    def info(self) -> dict[str, Any]:
        """The model as GET /v1/models/{id} answers it."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": UNKNOWN_RELEASE,
            "lifecycle": "active",
            "deprecated_at": None,
            "retires_at": None,
            "max_tokens": self.max_tokens,
            "max_input_tokens": self.max_input_tokens,
        }


CATALOGUE = (
    Model("claude-sonnet-4-6", "Claude Sonnet 4.6", 64_000),
    Model("claude-sonnet-4-5", "Claude Sonnet 4.5", 64_000),
    Model("claude-opus-4-5", "Claude Opus 4.5", 64_000),
    Model("claude-haiku-4-5", "Claude Haiku 4.5", 64_000),
    Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", 64_000),
    Model("claude-opus-4-5-20251101", "Claude Opus 4.5", 64_000),
    Model("claude-opus-4-1", "Claude Opus 4.1", 32_000),
    Model("emulator-large", "Emulator Large", 64_000),
    Model("emulator-medium", "Emulator Medium", 32_000),
    Model("emulator-small", "Emulator Small", 8_192),
)
MODELS = tuple(model.id for model in CATALOGUE)
_BY_ID = {model.id: model for model in CATALOGUE}


def find(model_id: str) -> Model | None:
    return _BY_ID.get(model_id)
