"""What an unexpected reconcile error leaves on its object: the answer a user sees instead of silence.

Invariants:
- the answer is `Reconciling=True` with reason `ReconcileError` (kstatus: work goes on, with retry)
  and its message names the error, bounded and with URL credentials masked; the other conditions
  and the rest of the status are kept as they are;
- planning the same error twice gives a plan whose status equals the status it read, so applying
  it again writes nothing (the Warning Event is the caller's to post once per error);
- `plan_recovered` removes that condition only while it still carries `ReconcileError` (a plan of
  the reconcile that succeeded may already have replaced it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.common import redact_userinfo
from atomesh.core.plan import Event, Plan

MAX_MESSAGE = 512


def describe_error(error: BaseException) -> str:
    """`ExceptionType: message`, bounded, with credentials in URLs masked."""
    text = redact_userinfo(f"{type(error).__name__}: {error}".strip().rstrip(":"))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def plan_reconcile_error(status: Mapping[str, Any], error: BaseException, generation: int | None, now: str) -> Plan:
    """The status with `Reconciling=True/ReconcileError`, and the one Warning Event that announces it."""
    message = f"reconcile failed: {describe_error(error)}; retried with backoff"
    conditions = [dict(cond) for cond in status.get("conditions") or []]
    old = next((cond for cond in conditions if cond.get("type") == c.RECONCILING), None)
    stamp = old.get("lastTransitionTime") if old is not None and old.get("status") == c.TRUE else None
    wanted: dict[str, Any] = {
        "type": c.RECONCILING,
        "status": c.TRUE,
        "reason": c.RECONCILE_ERROR,
        "message": message,
        "lastTransitionTime": stamp or now,
    }
    if generation is not None:
        wanted["observedGeneration"] = generation
    others = [cond for cond in conditions if cond.get("type") != c.RECONCILING]
    index = next((i for i, cond in enumerate(conditions) if cond.get("type") == c.RECONCILING), len(others))
    return Plan(
        status={**status, "conditions": [*others[:index], wanted, *others[index:]]},
        events=(Event("Warning", c.RECONCILE_ERROR, message),),
    )


def plan_recovered(status: Mapping[str, Any]) -> Plan:
    """The status without the `ReconcileError` condition; no plan (None status) when it has none."""
    conditions = list(status.get("conditions") or [])
    kept = [cond for cond in conditions if cond.get("reason") != c.RECONCILE_ERROR]
    if len(kept) == len(conditions):
        return Plan()
    return Plan(status={**status, "conditions": kept})
