"""The spec hash: an Agent's version besides git. Canonical JSON, so key order and defaults
written out or left implicit give the same hash."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from atomesh.api.common import dump

SHORT = 12


def canonical_json(value: Any) -> str:
    """Stable text of a JSON value: sorted keys, no whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(spec: BaseModel) -> str:
    """sha256 hex of the spec's wire form (after defaults), so equal specs hash equally."""
    return hashlib.sha256(canonical_json(dump(spec)).encode()).hexdigest()


def short_hash(text: str, length: int = 8) -> str:
    """A short, stable suffix for names that must be shortened."""
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bounded_name(base: str, suffix: str, limit: int = 63) -> str:
    """`<base><suffix>` within `limit` characters; a long base is cut and tagged with its hash so names stay unique."""
    if len(base) + len(suffix) <= limit:
        return base + suffix
    tag = "-" + short_hash(base)
    keep = max(1, limit - len(suffix) - len(tag))
    return base[:keep].rstrip("-.") + tag + suffix
