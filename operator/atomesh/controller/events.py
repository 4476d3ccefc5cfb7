"""Kubernetes Events through kopf's poster (batched, retried, never blocking a handler)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

log = logging.getLogger(__name__)


def post_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """Post an Event about `body`; outside a running operator (unit tests) it is only logged."""
    try:
        obj: Any = dict(body)
        kopf.event(obj, type=type_, reason=reason, message=message[:1024])
    except LookupError:
        log.info("event %s %s: %s", type_, reason, message)
