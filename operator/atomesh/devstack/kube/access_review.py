"""The access-review and identity APIs that `kubectl auth can-i` and `kubectl auth whoami` use:
SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview
(authorization.k8s.io/v1), SelfSubjectReview (authentication.k8s.io/v1); each is created, answered
and never stored, as kube-apiserver does. A review is answered by the same authorizer that guards
every request, so `can-i` and enforcement cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from atomesh.devstack.kube.errors import ApiError, cause, invalid
from atomesh.devstack.kube.rbac import SYSTEM_MASTERS, Decision
from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo
from atomesh.devstack.kube.resources import ResourceInfo

Obj = dict[str, Any]
AUTHORIZATION = "authorization.k8s.io"
AUTHENTICATION = "authentication.k8s.io"
CREATE_ONLY = ("create",)
EVERYTHING = (
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
    {"verbs": ["*"], "nonResourceURLs": ["*"]},
)


def resources() -> list[ResourceInfo]:
    def info(group: str, plural: str, kind: str, namespaced: bool = False) -> ResourceInfo:
        return ResourceInfo(group, "v1", plural, plural[:-1], kind, namespaced=namespaced, verbs=CREATE_ONLY)

    return [
        info(AUTHORIZATION, "selfsubjectaccessreviews", "SelfSubjectAccessReview"),
        info(AUTHORIZATION, "selfsubjectrulesreviews", "SelfSubjectRulesReview"),
        info(AUTHORIZATION, "subjectaccessreviews", "SubjectAccessReview"),
        info(AUTHORIZATION, "localsubjectaccessreviews", "LocalSubjectAccessReview", namespaced=True),
        info(AUTHENTICATION, "selfsubjectreviews", "SelfSubjectReview"),
    ]


REVIEWS = {(i.group, i.plural): i for i in resources()}


def _attributes(user: UserInfo, spec: Obj, kind: str) -> Attributes:
    resource: Obj = spec.get("resourceAttributes") or {}
    non_resource: Obj = spec.get("nonResourceAttributes") or {}
    if bool(resource) == bool(non_resource):
        raise invalid(
            kind,
            AUTHORIZATION,
            "",
            [
                cause(
                    "spec.resourceAttributes",
                    "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                )
            ],
        )
    if non_resource:
        return Attributes(
            user=user,
            verb=str(non_resource.get("verb", "")),
            resource_request=False,
            path=str(non_resource.get("path", "")),
        )
    return Attributes(
        user=user,
        verb=str(resource.get("verb", "")),
        resource_request=True,
        namespace=str(resource.get("namespace", "")),
        api_group=str(resource.get("group", "")),
        api_version=str(resource.get("version", "")),
        resource=str(resource.get("resource", "")),
        subresource=str(resource.get("subresource", "")),
        name=str(resource.get("name", "")),
    )


def _subject(spec: Obj, kind: str) -> UserInfo:
    user, groups = str(spec.get("user") or ""), tuple(str(g) for g in spec.get("groups") or ())
    if not user and not groups:
        raise invalid(kind, AUTHORIZATION, "", [cause("spec.user", "at least one of user or group must be specified")])
    extra = {str(k): tuple(str(x) for x in v) for k, v in (spec.get("extra") or {}).items()}
    return UserInfo(user, groups, str(spec.get("uid") or ""), extra)


def _answer(body: Obj, kind: str, group: str, status: Obj, namespace: str = "") -> Obj:
    meta: Obj = {"creationTimestamp": None}
    if namespace:
        meta["namespace"] = namespace
    return {
        "kind": kind,
        "apiVersion": f"{group}/v1",
        "metadata": meta,
        "spec": body.get("spec") or {},
        "status": status,
    }


def review(
    info: ResourceInfo,
    namespace: str,
    body: Any,
    requester: UserInfo,
    authorize: Callable[[Attributes], Decision],
    rules_for: Callable[[UserInfo, str], list[Obj]],
) -> Obj:
    """The answered review for a POST of `body` to `info` (in `namespace` for the local kind)."""
    body = body if isinstance(body, dict) else {}
    spec = body.get("spec") or {}
    kind = info.kind
    if kind == "SelfSubjectReview":
        user_info: Obj = {"username": requester.name, "groups": list(requester.groups)}
        if requester.uid:
            user_info["uid"] = requester.uid
        if requester.extra:
            user_info["extra"] = {k: list(v) for k, v in requester.extra.items()}
        answer = _answer(body, kind, AUTHENTICATION, {"userInfo": user_info})
        answer.pop("spec")
        return answer
    if kind == "SelfSubjectRulesReview":
        return _answer(body, kind, AUTHORIZATION, rules_review(requester, str(spec.get("namespace", "")), rules_for))
    subject = requester if kind == "SelfSubjectAccessReview" else _subject(spec, kind)
    attributes = _attributes(subject, spec, kind)
    if kind == "LocalSubjectAccessReview":
        if attributes.namespace and attributes.namespace != namespace:
            raise ApiError(
                400,
                f"spec.resourceAttributes.namespace must match namespace: {namespace}",
                "BadRequest",
            )
        attributes = Attributes(**{**attributes.__dict__, "namespace": namespace})
    decision = authorize(attributes)
    status: Obj = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return _answer(body, kind, AUTHORIZATION, status, namespace if kind == "LocalSubjectAccessReview" else "")


def rules_review(user: UserInfo, namespace: str, rules_for: Callable[[UserInfo, str], list[Obj]]) -> Obj:
    if SYSTEM_MASTERS in user.groups:
        rules: list[Obj] = list(EVERYTHING)
    else:
        rules = rules_for(user, namespace)
    resource_rules = [
        {k: r[k] for k in ("verbs", "apiGroups", "resources", "resourceNames") if r.get(k)}
        for r in rules
        if r.get("resources")
    ]
    non_resource_rules = [
        {"verbs": r.get("verbs", []), "nonResourceURLs": r["nonResourceURLs"]}
        for r in rules
        if r.get("nonResourceURLs")
    ]
    return {"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": False}
