"""Access control of the API server emulator, in kube-apiserver's filter order: authentication
(`authn`), impersonation (`impersonation`), request info (`requestinfo`), authorisation (`nodeauth`
for kubelets, then `rbac`); NodeRestriction on a node's writes (`nodeauth.admit`);
then, inside storage, the escalation check on RBAC writes (`escalation`) and, after a ClusterRole
write, the aggregation controller (`aggregation`). The identity of the request being served is kept
in a context variable, so storage can check RBAC writes against it.

`create_app(access=AccessOptions(...))` turns it on (`--authorization-mode=RBAC`); without it the
emulator allows every request (`--authorization-mode=AlwaysAllow`).
"""

from __future__ import annotations

import collections
import contextvars
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from atomesh.devstack.kube import (
    access_review,
    aggregation,
    bootstrap,
    escalation,
    impersonation,
    nodeauth,
    requestinfo,
)
from atomesh.devstack.kube.authn import ANONYMOUS, DEFAULT_EXPIRATION, MIN_EXPIRATION, Authenticator, StaticToken
from atomesh.devstack.kube.cluster import Cluster
from atomesh.devstack.kube.errors import ApiError, cause, invalid
from atomesh.devstack.kube.rbac import CLUSTER_ROLES, Authorizer, Decision, deny
from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo
from atomesh.devstack.kube.timestamps import format_time

Obj = dict[str, Any]
log = logging.getLogger(__name__)
CURRENT_USER: contextvars.ContextVar[UserInfo | None] = contextvars.ContextVar("kube_current_user", default=None)
SERVICE_ACCOUNTS = ("", "serviceaccounts")
DENIALS_KEPT = 1000


@dataclass(frozen=True)
class AccessOptions:
    """`tokens`: the static token file (token -> user and groups); `signing_key`: the key of
    ServiceAccount tokens (random when None: tokens do not survive a restart)."""

    tokens: Mapping[str, StaticToken] = field(default_factory=dict)
    signing_key: bytes | None = None


class AccessControl:
    def __init__(self, cluster: Cluster, options: AccessOptions) -> None:
        self.cluster = cluster
        self.authenticator = Authenticator(cluster.store, options.tokens, options.signing_key)
        self.authorizer = Authorizer(cluster.store)
        # The last denials (user, message), newest last: what an audit log would show, for tests
        # that a component works under its RBAC without a single 403.
        self.denials: collections.deque[tuple[str, str]] = collections.deque(maxlen=DENIALS_KEPT)
        cluster.admission = self._admit_write

    def authorize(self, attributes: Attributes) -> Decision:
        return self.authorizer.authorize(attributes)

    # -- the request pipeline --------------------------------------------------------------------
    def admit(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        header_values: Callable[[str], Sequence[str]],
        peercert: Any = None,
    ) -> Attributes:
        """The authorised request's attributes; 401 or 403 (the API server's Status) otherwise.
        `peercert`: the client certificate TLS verified, as `ssl` decodes it."""
        user = self.authenticator.authenticate(headers.get("Authorization"), peercert)
        user = impersonation.impersonate(user, headers, header_values, self.authorize)
        attributes = requestinfo.resolve(user, method, path, query)
        decision = self.authorize(attributes)
        if not decision.allowed:
            error = deny(attributes, decision.reason)
            log.info("RBAC: %s (groups %s)", error.message, list(user.groups))
            self.denials.append((user.name, error.message))
            raise error
        nodeauth.restrict(self.cluster.store, attributes)
        return attributes

    def _admit_write(self, gr: tuple[str, str], obj: Obj) -> None:
        nodeauth.admit(CURRENT_USER.get(), gr, obj)
        escalation.check(self.authorizer.resolver, self.authorize, CURRENT_USER.get(), gr, obj)

    # -- bootstrap and controllers ---------------------------------------------------------------
    def bootstrap(self) -> None:
        """Create the default roles and bindings that are missing (kept ones stay as they are)."""
        store, registry = self.cluster.store, self.cluster.registry
        for objects, plural in (
            (bootstrap.cluster_roles(), "clusterroles"),
            (bootstrap.cluster_role_bindings(), "clusterrolebindings"),
        ):
            info = registry.get("rbac.authorization.k8s.io", "v1", plural)
            assert info is not None
            for obj in objects:
                if store.get(info.gr, "", obj["metadata"]["name"]) is None:
                    self.cluster.create(info, "", obj)
        self.aggregate()

    def aggregate(self) -> int:
        info = self.cluster.registry.get("rbac.authorization.k8s.io", "v1", "clusterroles")
        assert info is not None
        token = CURRENT_USER.set(None)  # the controller's own writes are not escalation-checked

        def write(role: Obj, rules: list[Obj]) -> None:
            self.cluster.patch(
                info, "", role["metadata"]["name"], "application/merge-patch+json", {"rules": rules}, None
            )

        try:
            return aggregation.aggregate(self.cluster.store, write)
        finally:
            CURRENT_USER.reset(token)

    def after_request(self, method: str, attributes: Attributes) -> None:
        if method != "GET" and (attributes.api_group, attributes.resource) == CLUSTER_ROLES:
            self.aggregate()

    # -- the endpoints served here ---------------------------------------------------------------
    def token_request(self, namespace: str, name: str, body: Any) -> Obj:
        """`POST /api/v1/namespaces/NS/serviceaccounts/NAME/token` (TokenRequest)."""
        info = self.cluster.registry.get("", "v1", "serviceaccounts")
        assert info is not None
        account = self.cluster.get(info, namespace, name).obj
        spec = dict((body or {}).get("spec") or {}) if isinstance(body, dict) else {}
        seconds = int(spec.get("expirationSeconds") or DEFAULT_EXPIRATION)
        if seconds < MIN_EXPIRATION:
            raise invalid(
                "TokenRequest",
                "authentication.k8s.io",
                name,
                [
                    cause(
                        "spec.expirationSeconds",
                        f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
                    )
                ],
            )
        audiences = [str(a) for a in spec.get("audiences") or []]
        token, expiry = self.authenticator.issue(namespace, name, account["metadata"]["uid"], audiences, seconds)
        spec.update(
            {"expirationSeconds": seconds, "audiences": audiences or ["https://kubernetes.default.svc.cluster.local"]}
        )
        spec.setdefault("boundObjectRef", None)
        return {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": spec,
            "status": {"token": token, "expirationTimestamp": format_time(datetime.fromtimestamp(expiry, UTC))},
        }


async def served_here(
    access: AccessControl | None, attributes: Attributes, method: str, read_body: Callable[[], Awaitable[Any]]
) -> Obj | None:
    """Access reviews and TokenRequests are answered here (201), never stored; None for the rest."""
    if not attributes.resource_request:
        return None
    key = (attributes.api_group, attributes.resource)
    if key in access_review.REVIEWS and not attributes.name:
        if method != "POST":
            raise ApiError(405, f"the server does not allow the method {method} on {attributes.resource}")
        return serve_review(access, attributes, await read_body())
    if key == SERVICE_ACCOUNTS and attributes.subresource == "token":
        if method != "POST":
            raise ApiError(405, f"the server does not allow the method {method} on serviceaccounts/token")
        if access is None:
            raise ApiError(404, "serviceaccounts/token is served only with access control on (create_app(access=...))")
        return access.token_request(attributes.namespace, attributes.name, await read_body())
    return None


def serve_review(access: AccessControl | None, attributes: Attributes, body: Any) -> Obj:
    """Answer a POST to one of `access_review.REVIEWS`; with no access control, everything is allowed."""
    info = access_review.REVIEWS[(attributes.api_group, attributes.resource)]
    if access is None:
        return access_review.review(
            info, attributes.namespace, body, attributes.user, lambda _a: Decision(True), _everything
        )
    return access_review.review(
        info, attributes.namespace, body, attributes.user, access.authorize, access.authorizer.resolver.rules_for
    )


def _everything(_user: UserInfo, _namespace: str) -> list[Obj]:
    return list(access_review.EVERYTHING)


def admit(access: AccessControl | None, request: web.Request) -> Attributes:
    """The attributes of an aiohttp request, authenticated and authorised (as anonymous and
    unchecked without access control)."""
    if access is None:
        return requestinfo.resolve(ANONYMOUS, request.method, request.path, request.query)
    peercert = request.transport.get_extra_info("peercert") if request.transport is not None else None
    return access.admit(
        request.method,
        request.path,
        request.query,
        request.headers,
        lambda key: request.headers.getall(key, []),
        peercert,
    )
