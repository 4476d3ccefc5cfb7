"""Impersonation headers, as kube-apiserver's `WithImpersonation` filter handles them
(`k8s.io/apiserver/pkg/endpoints/filters/impersonation.go`).

`Impersonate-User` (with any `Impersonate-Group`, `Impersonate-Uid`, `Impersonate-Extra-KEY`)
replaces the requester's identity once each part is authorised by the verb `impersonate`: users
on `users`, ServiceAccounts on `serviceaccounts` in their namespace, groups on `groups`, the uid on
`uids.authentication.k8s.io`, extras on `userextras/KEY.authentication.k8s.io`. A denied part
answers 403 with the API server's message for that check. The impersonated user is in
`system:authenticated` unless it is `system:anonymous` or a group already says otherwise; an
impersonated ServiceAccount without explicit groups gets its ServiceAccount groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from atomesh.devstack.kube.authn import AUTHENTICATED, service_account_user
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.rbac import Decision, deny
from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo

USER = "Impersonate-User"
GROUP = "Impersonate-Group"
UID = "Impersonate-Uid"
EXTRA_PREFIX = "Impersonate-Extra-"
ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATION_GROUP = "authentication.k8s.io"
SA_PREFIX = "system:serviceaccount:"


def _check(authorize: Callable[[Attributes], Decision], attributes: Attributes) -> None:
    decision = authorize(attributes)
    if not decision.allowed:
        raise deny(attributes, decision.reason)


def impersonate(
    requester: UserInfo,
    headers: Mapping[str, str],
    header_values: Callable[[str], Sequence[str]],
    authorize: Callable[[Attributes], Decision],
) -> UserInfo:
    """The identity the request acts as; `requester` when no impersonation header is present."""
    username = headers.get(USER, "")
    groups = list(header_values(GROUP))
    uid = headers.get(UID, "")
    extra: dict[str, list[str]] = {}
    for key in headers:
        if key.lower().startswith(EXTRA_PREFIX.lower()):
            extra.setdefault(key[len(EXTRA_PREFIX) :].lower(), []).extend(header_values(key))
    if not username:
        if groups or uid or extra:
            raise ApiError(
                500,
                f"Internal Server Error: requested {_describe(groups, uid, extra)} without impersonating a user",
            )
        return requester

    def asking(resource: str, name: str, namespace: str = "", group: str = "", sub: str = "") -> Attributes:
        return Attributes(
            user=requester,
            verb="impersonate",
            resource_request=True,
            namespace=namespace,
            api_group=group,
            resource=resource,
            subresource=sub,
            name=name,
        )

    service_account = username.startswith(SA_PREFIX) and username.count(":") == 3
    if service_account:
        namespace, name = username[len(SA_PREFIX) :].split(":", 1)
        _check(authorize, asking("serviceaccounts", name, namespace))
        if not groups:
            groups = [g for g in service_account_user(namespace, name).groups if g != AUTHENTICATED]
    else:
        _check(authorize, asking("users", username))
    for group in header_values(GROUP):
        _check(authorize, asking("groups", group))
    if uid:
        _check(authorize, asking("uids", uid, group=AUTHENTICATION_GROUP))
    for key, values in extra.items():
        for value in values:
            _check(authorize, asking("userextras", value, group=AUTHENTICATION_GROUP, sub=key))
    if username != ANONYMOUS:
        if not any(g in (AUTHENTICATED, UNAUTHENTICATED) for g in groups):
            groups.append(AUTHENTICATED)
    elif UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    return UserInfo(username, tuple(groups), uid, {k: tuple(v) for k, v in extra.items()})


def _describe(groups: list[str], uid: str, extra: dict[str, list[str]]) -> str:
    parts = [f"{GROUP}={g}" for g in groups]
    if uid:
        parts.append(f"{UID}={uid}")
    parts.extend(f"{EXTRA_PREFIX}{k}={v}" for k, values in extra.items() for v in values)
    return "[" + " ".join(parts) + "]"
