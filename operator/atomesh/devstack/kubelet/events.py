"""Pure: core/v1 Events as a kubelet (or, for Scheduled, the scheduler) posts them about a pod."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

_counter = itertools.count()


def event_name(pod_name: str) -> str:
    """`<pod>.<16 hex digits>`, unique per process, as Kubernetes names events."""
    return f"{pod_name}.{(time.time_ns() + next(_counter)) & 0xFFFFFFFFFFFFFFFF:016x}"


def container_field_path(container: str, init: bool) -> str:
    return f"spec.{'initContainers' if init else 'containers'}{{{container}}}"


def build_event(
    pod: Mapping[str, Any],
    reason: str,
    message: str,
    *,
    now: str,
    node: str,
    name: str,
    warning: bool = False,
    field_path: str | None = None,
    component: str = "kubelet",
) -> dict[str, Any]:
    meta = pod.get("metadata") or {}
    involved: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": meta.get("name"),
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
    }
    if meta.get("resourceVersion"):
        involved["resourceVersion"] = meta["resourceVersion"]
    if field_path:
        involved["fieldPath"] = field_path
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": meta.get("namespace")},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": component, "host": node},
        "reportingComponent": component,
        "reportingInstance": node,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
