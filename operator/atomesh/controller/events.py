"""Kubernetes Events through kopf's poster (batched, retried, never blocking a handler)."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from typing import Any

import kopf

log = logging.getLogger(__name__)


def poster_context() -> contextvars.Context | None:
    """The current context if it holds kopf's Event poster (context variables kopf sets for its
    resource handlers), so that work done later on another thread can post Events from it."""
    context = contextvars.copy_context()
    return context if any(var.name == "event_queue_var" for var in context) else None


def post_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """Post an Event about `body`; outside a running operator (unit tests) it is only logged."""
    try:
        obj: Any = dict(body)
        kopf.event(obj, type=type_, reason=reason, message=message[:1024])
    except (LookupError, RuntimeError):  # no kopf context (unit tests), or its loop has closed
        log.info("event %s %s: %s", type_, reason, message)
