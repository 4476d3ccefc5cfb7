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

from atomesh.devstack.kube import jsonpath, printers, timestamps
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


def age(value: Any) -> Any:
    if not isinstance(value, str):
        return None
    then = timestamps.parse(value)
    if then is None:
        return "<invalid>"
    return printers.human_duration((datetime.now(UTC) - then).total_seconds())


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
    printer = printers.PRINTERS.get(info.gr) if info.builtin else None
    if printer is not None:
        definitions = [c.definition() for c in printer.columns]
        cells = printer.cells
    else:
        definitions, cells = _custom_columns(info)
    rows = []
    for obj in objects:
        row: Obj = {"cells": cells(obj)}
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


def _custom_columns(info: ResourceInfo) -> tuple[list[Obj], Any]:
    """Name and the CRD's printer columns (or Age), as the custom-resource table convertor prints them."""
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

    def cells(obj: Obj) -> list[Any]:
        return [obj.get("metadata", {}).get("name", ""), *(_cell(obj, c) for c in cols)]

    return definitions, cells
