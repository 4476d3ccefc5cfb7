"""Condition bookkeeping as Kubernetes API conventions ask: one entry per type,
lastTransitionTime kept while the status does not change, `Reconciling`, `Stalled` and
`CostUnknown` present only while true (kstatus's abnormal-true polarity)."""

from __future__ import annotations

from collections.abc import Iterable

from atomesh.api import conditions as c
from atomesh.api.common import Condition, ConditionStatus

ABNORMAL_TRUE = frozenset({c.RECONCILING, c.STALLED, c.COST_UNKNOWN_CONDITION})


def condition(
    type_: str, status: ConditionStatus, reason: str, message: str = "", generation: int | None = None
) -> Condition:
    """A condition without a transition time; `merge_conditions` stamps it."""
    return Condition(type=type_, status=status, reason=reason, message=message, observed_generation=generation)


def find(conditions: Iterable[Condition], type_: str) -> Condition | None:
    return next((cond for cond in conditions if cond.type == type_), None)


def set_condition(conditions: list[Condition], new: Condition, now: str) -> list[Condition]:
    """Replace the condition of `new.type`; keep its lastTransitionTime when the status is unchanged."""
    old = find(conditions, new.type)
    stamp = old.last_transition_time if old is not None and old.status == new.status else now
    updated = new.model_copy(update={"last_transition_time": stamp or now})
    result = [cond for cond in conditions if cond.type != new.type]
    result.append(updated)
    return sorted(result, key=lambda cond: _ORDER.get(cond.type, len(_ORDER)))


def merge_conditions(current: list[Condition], desired: Iterable[Condition], now: str) -> list[Condition]:
    """Set every desired condition; drop Reconciling/Stalled unless desired and true."""
    result = list(current)
    wanted = list(desired)
    for new in wanted:
        result = set_condition(result, new, now)
    keep = {new.type for new in wanted if new.status == c.TRUE}
    return [cond for cond in result if cond.type not in ABNORMAL_TRUE or cond.type in keep]


_ORDER = {c.READY: 0, c.RECONCILING: 1, c.STALLED: 2, c.RESOLVED_REFS: 3, c.COST_UNKNOWN_CONDITION: 4}
