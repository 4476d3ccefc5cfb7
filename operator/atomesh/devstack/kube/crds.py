"""CustomResourceDefinitions: what a CRD serves, and the status the API server gives it."""

from __future__ import annotations

from typing import Any

from atomesh.devstack.kube import crd_decode, crd_fields, crd_validation
from atomesh.devstack.kube.errors import bad_request
from atomesh.devstack.kube.resources import PrinterColumn, ResourceInfo

Obj = dict[str, Any]


def validate_crd(crd: Obj, old: Obj | None = None) -> None:
    """kube-apiserver's validation of a CRD write (`crd_validation`); `old` on update."""
    crd_validation.validate_crd(crd, old)


def resource_infos(crd: Obj) -> list[ResourceInfo]:
    spec = crd["spec"]
    names = spec["names"]
    infos = []
    for version in spec.get("versions") or []:
        columns = tuple(
            PrinterColumn(
                name=c["name"],
                type=c.get("type", "string"),
                json_path=c.get("jsonPath", ""),
                description=c.get("description", ""),
                priority=int(c.get("priority", 0)),
                format=c.get("format", ""),
            )
            for c in version.get("additionalPrinterColumns") or []
        )
        subresources = tuple(k for k in ("status", "scale") if k in (version.get("subresources") or {}))
        infos.append(
            ResourceInfo(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=subresources,
                builtin=False,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                printer_columns=columns,
                served=bool(version.get("served", True)),
                storage=bool(version.get("storage", False)),
            )
        )
    return infos


def crd_defaults(crd: Obj) -> None:
    """Defaults the real API server fills in (kubectl diffs against them), after its decoder has
    dropped the fields the v1 types do not have, so validation never sees them. A value of the
    wrong JSON type fails the decoding, and so the request (400)."""
    problem = crd_decode.decode_error(crd)
    if problem:
        version = str(crd.get("apiVersion") or "v1").rpartition("/")[2]
        kind = "CustomResourceDefinition"
        raise bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: {problem}')
    crd_fields.prune(crd)
    spec = crd.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if names.get("kind"):
        names.setdefault("singular", names["kind"].lower())
        names.setdefault("listKind", f"{names['kind']}List")
    spec.setdefault("conversion", {"strategy": "None"})


def crd_status(crd: Obj, now: str, previous: Obj | None) -> Obj:
    """Established and NamesAccepted, acceptedNames and storedVersions: what clients wait for."""
    old_conditions = {c.get("type"): c for c in ((previous or {}).get("status") or {}).get("conditions") or []}

    def condition(type_: str, reason: str, message: str) -> Obj:
        old = old_conditions.get(type_)
        since = old["lastTransitionTime"] if old and old.get("status") == "True" else now
        return {"type": type_, "status": "True", "lastTransitionTime": since, "reason": reason, "message": message}

    stored = list(((previous or {}).get("status") or {}).get("storedVersions") or [])
    storage = next((v["name"] for v in crd["spec"].get("versions") or [] if v.get("storage")), None)
    if storage and storage not in stored:
        stored.append(storage)
    return {
        "conditions": [
            condition("NamesAccepted", "NoConflicts", "no conflicts found"),
            condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": dict(crd["spec"]["names"]),
        "storedVersions": stored,
    }
