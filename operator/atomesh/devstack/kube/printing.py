"""The pieces every kube-apiserver Table printer uses: column definitions, ages and selectors.

After kubernetes `pkg/printers/internalversion/printers.go` (`translateTimestampSince`,
`layoutContainerCells`) and apimachinery `pkg/util/duration` and `metav1.FormatLabelSelector`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atomesh.devstack.kube import timestamps

Obj = dict[str, Any]
Cells = list[Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "string"
    description: str = ""
    priority: int = 0
    format: str = ""

    def definition(self) -> Obj:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description or self.name,
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: Callable[[Obj], Cells]


NAME = Column("Name", format="name", description="Name must be unique within a namespace.")
AGE = Column(
    "Age", description="CreationTimestamp is a timestamp representing the server time when this object was created."
)
CREATED_AT = Column(
    "Created At", "date", "CreationTimestamp is a timestamp representing the server time when this object was created."
)


def get(obj: Any, *keys: str) -> Any:
    for key in keys:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def since(value: Any) -> str:
    """`translateTimestampSince`: the age of a timestamp, `<unknown>` when there is none."""
    when = timestamps.parse(value) if isinstance(value, str) else None
    if when is None:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - when).total_seconds())


def human_duration(seconds: float) -> str:
    """apimachinery `pkg/util/duration` `HumanDuration`."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def age_of(obj: Obj) -> str:
    return since(get(obj, "metadata", "creationTimestamp"))


def name_of(obj: Obj) -> str:
    return str(get(obj, "metadata", "name") or "")


def containers(spec: Any) -> tuple[str, str]:
    """`layoutContainerCells`: container names and images, comma-separated."""
    containers = get(spec, "containers") or []
    return ",".join(str(c.get("name", "")) for c in containers), ",".join(str(c.get("image", "")) for c in containers)


def format_label_selector(selector: Any) -> str:
    """metav1.FormatLabelSelector: `<none>` for an empty selector, else its requirements sorted by key."""
    if not isinstance(selector, dict):
        return "<none>"
    parts: list[tuple[str, str]] = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = (
            expression.get("key", ""),
            expression.get("operator"),
            sorted(expression.get("values") or []),
        )
        text = {
            "In": f"{key} in ({','.join(values)})",
            "NotIn": f"{key} notin ({','.join(values)})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(str(operator), "<error>")
        parts.append((key, text))
    text = ",".join(t for _, t in sorted(parts))
    return text or "<none>"
