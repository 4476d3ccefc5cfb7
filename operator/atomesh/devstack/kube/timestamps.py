"""Time fields of built-in kinds, stored as kube-apiserver stores them.

kube-apiserver decodes every write into Go types, so a `metav1.Time` sent as
`2026-11-24T08:00:00.123456+01:00` (what Python's `isoformat()` gives, and kopf sends) is stored and
returned as `2026-11-24T07:00:00Z`: UTC, second precision (apimachinery
`pkg/apis/meta/v1/time.go`, `UnmarshalJSON` with `time.RFC3339`, `MarshalJSON` with
`RFC3339` of the UTC time). A `metav1.MicroTime` (`micro_time.go`) must carry exactly six digits
of fraction (`RFC3339Micro = "2006-01-02T15:04:05.000000Z07:00"`) and is returned in UTC with six.
`null` stays null. A value that does not parse fails the whole decode: 400 BadRequest,
"<Kind> in version "v1" cannot be handled as a <Kind>: parsing time ...".

Custom resources are left alone except for their metadata: the apiextensions server does not
rewrite a CR's own `date-time` strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from atomesh.devstack.kube.errors import bad_request

Obj = dict[str, Any]
RFC3339 = "2006-01-02T15:04:05Z07:00"
RFC3339_MICRO = "2006-01-02T15:04:05.000000Z07:00"
_PATTERN = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$")

_CONDITIONS = ("lastProbeTime", "lastTransitionTime", "lastHeartbeatTime", "lastUpdateTime")
_CONDITION_PATHS = tuple(f"status.conditions[].{f}" for f in _CONDITIONS)
_CONTAINER_STATES = tuple(
    f"{state}.{kind}.{field}"
    for state in ("state", "lastState")
    for kind, fields in (("running", ("startedAt",)), ("terminated", ("startedAt", "finishedAt")))
    for field in fields
)
# Paths of metav1.Time fields per (group, plural); `[]` steps into every item of a list.
TIME_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "events"): ("firstTimestamp", "lastTimestamp"),
    ("events.k8s.io", "events"): ("deprecatedFirstTimestamp", "deprecatedLastTimestamp"),
    ("", "pods"): (
        "status.startTime",
        *_CONDITION_PATHS,
        *(
            f"status.{group}[].{state}"
            for group in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
            for state in _CONTAINER_STATES
        ),
    ),
    ("", "nodes"): _CONDITION_PATHS,
    ("", "namespaces"): ("status.conditions[].lastTransitionTime",),
    ("", "services"): ("status.conditions[].lastTransitionTime",),
    ("batch", "jobs"): (
        "status.startTime",
        "status.completionTime",
        *(f"status.conditions[].{f}" for f in _CONDITIONS),
    ),
    ("apps", "deployments"): tuple(f"status.conditions[].{f}" for f in _CONDITIONS),
    ("apiextensions.k8s.io", "customresourcedefinitions"): ("status.conditions[].lastTransitionTime",),
}
MICRO_TIME_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "events"): ("eventTime", "series.lastObservedTime"),
    ("events.k8s.io", "events"): ("eventTime", "series.lastObservedTime"),
    ("coordination.k8s.io", "leases"): ("spec.acquireTime", "spec.renewTime"),
}
METADATA_TIME_FIELDS = ("metadata.creationTimestamp", "metadata.deletionTimestamp", "metadata.managedFields[].time")


def parse(value: str) -> datetime | None:
    """Go's `time.Parse(time.RFC3339, value)`: any fraction of a second, `Z` or a numeric offset; in UTC."""
    match = _PATTERN.match(value)
    if match is None:
        return None
    seconds, fraction, offset = match.groups()
    micros = "." + fraction[:6].ljust(6, "0") if fraction else ""
    try:
        parsed = datetime.fromisoformat(seconds + micros + ("+00:00" if offset == "Z" else offset))
    except ValueError:  # month 13, hour 25 ...
        return None
    return parsed.astimezone(UTC)


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _slots(node: Any, steps: list[str]) -> Iterator[tuple[Obj, str]]:
    """(parent, key) of every value at `steps`, a dotted path where `x[]` walks the items of list `x`."""
    if not steps or not isinstance(node, dict):
        return
    step, rest = steps[0], steps[1:]
    key = step.removesuffix("[]")
    if key not in node:
        return
    if not rest:
        yield node, key
    elif step.endswith("[]"):
        for item in node[key] if isinstance(node[key], list) else ():
            yield from _slots(item, rest)
    else:
        yield from _slots(node[key], rest)


def _parse(value: Any, micro: bool) -> datetime | None:
    if not isinstance(value, str):
        return None
    match = _PATTERN.match(value)
    if micro and (match is None or len(match.group(2) or "") != 6):
        return None  # MicroTime's layout wants exactly six digits of fraction
    return parse(value)


def _normalise(obj: Obj, path: str, micro: bool) -> None:
    for parent, key in _slots(obj, path.split(".")):
        value = parent[key]
        if value is None:
            continue
        parsed = _parse(value, micro)
        if parsed is None:
            kind = obj.get("kind", "object")
            version = str(obj.get("apiVersion", "v1")).rpartition("/")[2]
            raise bad_request(
                f'{kind} in version "{version}" cannot be handled as a {kind}: parsing time "{value}" as '
                f'"{RFC3339_MICRO if micro else RFC3339}": {path.replace("[]", "")} is not an RFC 3339 time'
                + (" with six digits of fraction" if micro else "")
            )
        parent[key] = format_micro_time(parsed) if micro else format_time(parsed)


def normalise(gr: tuple[str, str], obj: Obj) -> None:
    """Rewrite the time fields of a built-in object (metadata only for custom resources) in place."""
    for path in (*METADATA_TIME_FIELDS, *TIME_FIELDS.get(gr, ())):
        _normalise(obj, path, micro=False)
    for path in MICRO_TIME_FIELDS.get(gr, ()):
        _normalise(obj, path, micro=True)
