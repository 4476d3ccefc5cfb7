"""Discovery documents: /version, /api, /apis and the per-group-version resource lists.

Plain JSON discovery only; clients that ask for aggregated discovery fall back to it when the
response's Content-Type is plain application/json.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from atomesh import __version__
from atomesh.devstack.kube.resources import Registry, ResourceInfo

Obj = dict[str, Any]
SERVER_VERSION = {"major": "1", "minor": "37", "gitVersion": "v1.37.0-atomesh", "platform": "linux/amd64"}


def version() -> Obj:
    return {
        **SERVER_VERSION,
        "gitCommit": "atomesh-devstack",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": f"atomesh {__version__}",
        "compiler": "gc",
        "emulationMajor": "1",
        "emulationMinor": "37",
    }


def core_versions(host: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
    }


def _group(name: str, versions: list[str]) -> Obj:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def _preferred_first(versions: list[str]) -> list[str]:
    """Kubernetes version priority: GA > beta > alpha, higher numbers first."""

    def rank(v: str) -> tuple[int, int, int]:
        m = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", v)
        if not m:
            return (3, 0, 0)
        level = {"": 0, "beta": 1, "alpha": 2}[m.group(2) or ""]
        return (level, -int(m.group(1)), -int(m.group(3) or 0))

    return sorted(versions, key=rank)


def group_list(registry: Registry) -> Obj:
    groups = [_group(name, _preferred_first(versions)) for name, versions in registry.group_versions().items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> Obj | None:
    versions = registry.group_versions().get(name)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, _preferred_first(versions))}


def _entry(info: ResourceInfo) -> Obj:
    entry: Obj = {
        "name": info.plural,
        "singularName": info.singular,
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": list(info.verbs),
    }
    if info.short_names:
        entry["shortNames"] = list(info.short_names)
    if info.categories:
        entry["categories"] = list(info.categories)
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    entry["storageVersionHash"] = base64.b64encode(digest[:8]).decode()
    return entry


def _subresource(info: ResourceInfo, sub: str) -> Obj:
    verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
    if sub == "finalize":
        verbs = ["update"]
    kind = "Scale" if sub == "scale" else info.kind if sub != "log" else "Pod"
    if sub == "token":  # TokenRequest, served by access control
        verbs, kind = ["create"], "TokenRequest"
    entry: Obj = {"name": f"{info.plural}/{sub}", "singularName": "", "namespaced": info.namespaced, "kind": kind}
    if sub == "token":
        entry |= {"group": "authentication.k8s.io", "version": "v1"}
    return entry | {"verbs": verbs}


def resource_list(registry: Registry, group: str, version: str) -> Obj | None:
    infos = registry.in_group_version(group, version)
    if not infos and not (group == "" and version == "v1"):
        return None
    resources = []
    for info in infos:
        resources.append(_entry(info))
        resources.extend(_subresource(info, sub) for sub in info.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
