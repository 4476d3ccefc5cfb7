"""Authentication as kube-apiserver does it: client certificates (CN = user, O = groups, verified
against the cluster CA by TLS, see `pki`), a static token file (`--token-auth-file`: token -> user,
uid, groups) and ServiceAccount tokens (signed JWTs from the TokenRequest API,
`POST .../serviceaccounts/NAME/token`, as `kubectl create token` asks for).

A request with no credentials is `system:anonymous` in `system:unauthenticated`; a token nobody
issued is a 401. Every authenticated user also gets the group `system:authenticated`; a
ServiceAccount's user is `system:serviceaccount:NS:NAME` in `system:serviceaccounts` and
`system:serviceaccounts:NS`. kubectl sends tokens only over TLS: serve with `pki.ClusterPKI`.

ServiceAccount tokens are HS256 (kube signs RS256 with its service-account key): clients never
verify them, and the server checks signature, expiry and that the ServiceAccount (same uid) exists.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.pki import user_from_peercert
from atomesh.devstack.kube.rbac_eval import UserInfo
from atomesh.devstack.kube.store import Store

ANONYMOUS = UserInfo("system:anonymous", ("system:unauthenticated",))
AUTHENTICATED = "system:authenticated"
SERVICE_ACCOUNTS = ("", "serviceaccounts")
ISSUER = "https://kubernetes.default.svc.cluster.local"
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def with_authenticated(name: str, groups: tuple[str, ...], uid: str = "") -> UserInfo:
    return UserInfo(name, groups if AUTHENTICATED in groups else (*groups, AUTHENTICATED), uid)


def service_account_user(namespace: str, name: str, uid: str = "") -> UserInfo:
    groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}")
    return with_authenticated(f"system:serviceaccount:{namespace}:{name}", groups, uid)


@dataclass(frozen=True)
class StaticToken:
    """One line of a token auth file: `token,user,uid,"group1,group2"`."""

    token: str
    user: str
    uid: str = ""
    groups: tuple[str, ...] = ()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    def __init__(self, store: Store, tokens: Mapping[str, StaticToken], signing_key: bytes | None = None) -> None:
        self.store = store
        self.tokens = dict(tokens)
        self.signing_key = signing_key or secrets.token_bytes(32)

    def authenticate(self, authorization: str | None, peercert: Any = None) -> UserInfo:
        """x509 first, then bearer tokens, as kube-apiserver's union authenticator orders them."""
        from_certificate = user_from_peercert(peercert)
        if from_certificate is not None:
            return with_authenticated(*from_certificate)
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized()  # basic auth is gone from kube-apiserver since 1.19
        static = self.tokens.get(token)
        if static is not None:
            return with_authenticated(static.user, static.groups, static.uid)
        user = self._service_account(token)
        if user is None:
            raise unauthorized()
        return user

    # -- ServiceAccount tokens ---------------------------------------------------------------------
    def issue(
        self, namespace: str, name: str, uid: str, audiences: list[str], expiration_seconds: int
    ) -> tuple[str, int]:
        """A signed token for the ServiceAccount and its expiry (epoch seconds)."""
        now = int(time.time())
        expiry = now + expiration_seconds
        claims = {
            "aud": audiences or [ISSUER],
            "exp": expiry,
            "iat": now,
            "nbf": now,
            "iss": ISSUER,
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self.signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}", expiry

    def _service_account(self, token: str) -> UserInfo | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self.signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(parts[2])):
                return None
            claims: dict[str, Any] = json.loads(_unb64(parts[1]))
            scope = claims["kubernetes.io"]
            namespace, name, uid = scope["namespace"], scope["serviceaccount"]["name"], scope["serviceaccount"]["uid"]
        except (ValueError, KeyError, TypeError):
            return None
        if int(claims.get("exp", 0)) < time.time():
            return None
        account = self.store.get(SERVICE_ACCOUNTS, namespace, name)
        if account is None or account.obj["metadata"].get("uid") != uid:
            return None  # deleted (or deleted and recreated): its tokens die with it
        return service_account_user(namespace, name, uid)


def parse_token_file(text: str) -> dict[str, StaticToken]:
    """kube-apiserver's `--token-auth-file` CSV: token,user,uid[,"group1,group2"]."""
    tokens: dict[str, StaticToken] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or row[0].startswith("#"):
            continue
        if len(row) < 3:
            raise ValueError(f"token file line {number}: expected token,user,uid[,groups], got {len(row)} fields")
        groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
        tokens[row[0]] = StaticToken(row[0], row[1], row[2], groups)
    return tokens
