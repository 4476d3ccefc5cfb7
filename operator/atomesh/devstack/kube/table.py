"""`meta.k8s.io/v1` Table output (kubectl get): Name, the printer columns, and rows whose `object`
is PartialObjectMetadata. CRDs without printer columns get Age, as kube-apiserver does.

Follows kube-apiserver's `asTable` and `optionsForTransform` (apiserver
`pkg/endpoints/handlers/response.go`) and the custom-resource convertor
(apiextensions-apiserver `pkg/registry/customresource/tableconvertor/tableconvertor.go`): the
`includeObject` option, column definitions left out when `noHeaders` is set (every watch event
after the first), and `date` cells parsed as RFC 3339 with any offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from atomesh.devstack.kube import jsonpath, timestamps
from atomesh.devstack.kube.errors import bad_request
from atomesh.devstack.kube.resources import PrinterColumn, ResourceInfo

Obj = dict[str, Any]
AGE = PrinterColumn(
    "Age",
    "date",
    ".metadata.creationTimestamp",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)


INCLUDE_OBJECT = ("Metadata", "None", "Object")


@dataclass(frozen=True)
class TableOptions:
    """metav1.TableOptions: what each row carries as `object`, and whether to send column definitions."""

    include_object: str = "Metadata"
    no_headers: bool = False


def wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def options(query: Mapping[str, str]) -> TableOptions:
    """The Table options of a request, refused as kube-apiserver refuses them (400 BadRequest)."""
    include = query.get("includeObject", "") or "Metadata"
    if include not in INCLUDE_OBJECT:
        supported = ", ".join(f'"{value}"' for value in INCLUDE_OBJECT)
        raise bad_request(
            f'Unable to convert to Table as requested: includeObject: Unsupported value: "{include}": '
            f"supported values: {supported}"
        )
    return TableOptions(include)


def columns(info: ResourceInfo) -> list[PrinterColumn]:
    if info.builtin:
        return [*info.printer_columns, AGE] if info.age_column else list(info.printer_columns)
    return list(info.printer_columns) or [AGE]


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration, which kubectl shows for `date` columns (AGE)."""
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


def age(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    then = timestamps.parse(value)
    if then is None:
        return "<invalid>"
    return human_duration((datetime.now(UTC) - then).total_seconds())


def _cell(obj: Obj, column: PrinterColumn) -> Any:
    if column.getter is not None:
        return column.getter(obj)
    try:
        found = jsonpath.find(obj, column.json_path)
    except jsonpath.JSONPathError:
        return None
    if not found:
        return None
    value = found[0]
    if column.type == "date":
        return age(value)
    if column.type == "string":
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
    return value


def partial(obj: Obj, info: ResourceInfo) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table(info: ResourceInfo, objects: Iterable[Obj], rv: str, opts: TableOptions | None = None) -> Obj:
    """A Table of `objects`; without column definitions when `opts.no_headers` (watch events after the first)."""
    opts = opts or TableOptions()
    cols = columns(info)
    definitions = [
        {
            "name": "Name",
            "type": "string",
            "format": "name",
            "description": "Name must be unique within a namespace.",
            "priority": info.name_priority,
        }
    ]
    definitions += [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description or c.name,
            "priority": c.priority,
        }
        for c in cols
    ]
    rows = []
    for obj in objects:
        row: Obj = {"cells": [obj.get("metadata", {}).get("name", ""), *(_cell(obj, c) for c in cols)]}
        if opts.include_object == "Object":
            row["object"] = obj
        elif opts.include_object == "Metadata":
            row["object"] = partial(obj, info)
        rows.append(row)
    result: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv}}
    if not opts.no_headers:
        result["columnDefinitions"] = definitions
    result["rows"] = rows
    return result
