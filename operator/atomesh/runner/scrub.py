"""Scrubbing credentials out of anything a step writes: logs, termination messages, check output."""

from __future__ import annotations

import base64
from collections.abc import Iterable

MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words


class Scrubber:
    """Replaces each secret, and the encodings git and HTTP put it in, with ***."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < _MIN_LENGTH:
                continue
            forms.add(secret)
            forms.add(base64.b64encode(f"x-access-token:{secret}".encode()).decode())
            forms.add(base64.b64encode(secret.encode()).decode())
        # Longest first, so a secret containing another is masked whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def found_in(self, text: str) -> bool:
        return any(form in text for form in self._forms)
