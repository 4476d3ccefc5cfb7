"""What the server serves: one `ResourceInfo` per group/version/resource, and the registry of them.

Built-in kinds are registered at start-up; CRDs add and remove entries as they come and go,
which is what discovery, OpenAPI and routing read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
GroupResource = tuple[str, str]  # (group, plural): the storage key, shared by all versions


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""
    # Built-in columns computed in code (a pod's READY); CRD columns use `json_path`.
    getter: Callable[[dict[str, Any]], Any] | None = None


@dataclass
class ResourceInfo:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()  # "status", "log"
    builtin: bool = True  # strategic merge patch is allowed only for built-in kinds
    schema: dict[str, Any] | None = None  # structural schema (openAPIV3Schema) of a CRD version
    printer_columns: tuple[PrinterColumn, ...] = ()
    # Extra field selectors beyond metadata.name/metadata.namespace: name -> value getter.
    field_getters: dict[str, Callable[[dict[str, Any]], str]] = field(default_factory=dict)
    served: bool = True
    storage: bool = True
    age_column: bool = True  # built-in tables end with AGE (CRDs print "Created At" instead)
    name_priority: int = 0  # 1 hides NAME unless -o wide, as kube-apiserver does for Events

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gr(self) -> GroupResource:
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


class Registry:
    """Served resources by group/version/plural, kept in insertion order for discovery."""

    def __init__(self) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceInfo] = {}

    def add(self, info: ResourceInfo) -> None:
        self._by_gvr[(info.group, info.version, info.plural)] = info

    def remove_group_resource(self, gr: GroupResource) -> None:
        for key in [k for k in self._by_gvr if (k[0], k[2]) == gr]:
            del self._by_gvr[key]

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_gvr.get((group, version, plural))

    def __iter__(self) -> Iterator[ResourceInfo]:
        return iter(list(self._by_gvr.values()))

    def versions_of(self, gr: GroupResource) -> list[ResourceInfo]:
        return [i for i in self if i.gr == gr]

    def storage_info(self, gr: GroupResource) -> ResourceInfo | None:
        infos = self.versions_of(gr)
        return next((i for i in infos if i.storage), infos[0] if infos else None)

    def group_versions(self) -> dict[str, list[str]]:
        """group -> served versions (first = preferred), excluding the legacy core group."""
        result: dict[str, list[str]] = {}
        for info in self:
            if info.group and info.served:
                versions = result.setdefault(info.group, [])
                if info.version not in versions:
                    versions.append(info.version)
        return result

    def in_group_version(self, group: str, version: str) -> list[ResourceInfo]:
        return [i for i in self if i.group == group and i.version == version and i.served]

    def by_kind(self, group: str, kind: str) -> ResourceInfo | None:
        return next((i for i in self if i.group == group and i.kind == kind), None)
