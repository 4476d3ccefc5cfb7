"""What a request asks for, in authorisation terms: kube-apiserver's `RequestInfoFactory`
(`k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`), pure.

Invariants: a path outside /api and /apis, or one with no resource (`/api/v1`, `/apis/g/v`), is a
non-resource request whose verb is the lower-cased HTTP method; GET without a name is `list`
(`watch` with `?watch=true`) and takes its name from a `metadata.name=` field selector; DELETE
without a name is `deletecollection`; `/namespaces/NS/status|finalize` are subresources of the
namespace NS, and any other `/namespaces/NS/...` scopes the rest to NS.
"""

from __future__ import annotations

from collections.abc import Mapping

from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo

API_PREFIXES = ("api", "apis")
GROUPLESS_PREFIXES = ("api",)
SPECIAL_VERBS = ("proxy", "watch")
NAMESPACE_SUBRESOURCES = ("status", "finalize")
METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
TRUE = ("true", "1")


def resolve(user: UserInfo, method: str, path: str, query: Mapping[str, str]) -> Attributes:
    parts = [p for p in path.strip("/").split("/") if p]
    non_resource = Attributes(user=user, verb=method.lower(), resource_request=False, path=path)
    if len(parts) < 3 or parts[0] not in API_PREFIXES:
        return non_resource
    prefix, parts = parts[0], parts[1:]
    group = ""
    if prefix not in GROUPLESS_PREFIXES:
        if len(parts) < 3:
            return non_resource
        group, parts = parts[0], parts[1:]
    version, parts = parts[0], parts[1:]
    if parts[0] in SPECIAL_VERBS and len(parts) >= 2:
        verb, parts = parts[0], parts[1:]
    else:
        verb = METHOD_VERBS.get(method.upper(), "")
    namespace = ""
    if parts[0] == "namespaces" and len(parts) > 1:
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in NAMESPACE_SUBRESOURCES:
            parts = parts[2:]
    resource = parts[0]
    name = parts[1] if len(parts) >= 2 else ""
    subresource = parts[2] if len(parts) >= 3 and verb != "proxy" else ""
    if not name and verb == "get":
        verb = "watch" if str(query.get("watch", "")).lower() in TRUE else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        user=user,
        verb=verb,
        resource_request=True,
        path=path,
        namespace=namespace,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        name=name,
    )


def _name_from_field_selector(selector: str) -> str:
    """`metadata.name=x` (alone, as `RequiresExactMatch` demands) names the object of a list/watch."""
    terms = [t.strip() for t in selector.split(",") if t.strip()]
    if len(terms) != 1:
        return ""
    for operator in ("==", "="):
        key, found, value = terms[0].partition(operator)
        if found and key.strip() == "metadata.name" and "!" not in key:
            return value.strip() if "/" not in value else ""
    return ""
