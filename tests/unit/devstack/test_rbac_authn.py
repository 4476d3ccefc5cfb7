"""Authentication and impersonation without a server: tokens, ServiceAccount tokens, certificates'
subjects, and the impersonation filter's checks and groups."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from atomesh.devstack.kube.authn import ANONYMOUS, Authenticator, StaticToken, parse_token_file
from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.impersonation import impersonate
from atomesh.devstack.kube.pki import ClusterPKI, user_from_peercert
from atomesh.devstack.kube.rbac import Decision
from atomesh.devstack.kube.rbac_eval import Attributes, UserInfo
from atomesh.devstack.kube.store import Store

SERVICE_ACCOUNTS = ("", "serviceaccounts")


def authenticator(store: Store | None = None) -> Authenticator:
    tokens = {"t1": StaticToken("t1", "alice", "u1", ("team-a",))}
    return Authenticator(store or Store(), tokens, b"k" * 32)


def test_static_tokens_anonymous_and_unknown_tokens() -> None:
    auth = authenticator()
    assert auth.authenticate("Bearer t1") == UserInfo("alice", ("team-a", "system:authenticated"), "u1")
    assert auth.authenticate(None) == ANONYMOUS
    for header in ("Bearer nope", "Basic YTpi", "Bearer "):
        with pytest.raises(ApiError) as caught:
            auth.authenticate(header)
        assert (caught.value.code, caught.value.message) == (401, "Unauthorized")


def test_service_account_tokens_live_as_long_as_their_account() -> None:
    store = Store()
    account = {"metadata": {"name": "ci", "namespace": "a", "uid": "uid-1"}}
    store.put(SERVICE_ACCOUNTS, account, "ADDED")
    auth = authenticator(store)
    token, _ = auth.issue("a", "ci", "uid-1", [], 600)
    user = auth.authenticate(f"Bearer {token}")
    assert user.name == "system:serviceaccount:a:ci"
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated")
    with pytest.raises(ApiError):
        authenticator(store).authenticate(f"Bearer {token[:-2]}xx")  # a forged signature
    expired, _ = auth.issue("a", "ci", "uid-1", [], -1)
    with pytest.raises(ApiError):
        auth.authenticate(f"Bearer {expired}")
    store.remove(SERVICE_ACCOUNTS, account)
    with pytest.raises(ApiError):
        auth.authenticate(f"Bearer {token}")


def test_certificate_subjects_name_user_and_groups() -> None:
    peercert = {
        "subject": ((("organizationName", "team-a"),), (("organizationName", "ops"),), (("commonName", "alice"),))
    }
    assert user_from_peercert(peercert) == ("alice", ("team-a", "ops"))
    assert user_from_peercert({}) is None
    assert authenticator().authenticate("Bearer t1", peercert).name == "alice"  # x509 before tokens
    pair = ClusterPKI().client("bob", ("team-b",))
    assert pair.certificate_pem.startswith(b"-----BEGIN CERTIFICATE-----")


def test_token_file() -> None:
    tokens = parse_token_file('abc,alice,u1,"team-a,ops"\n# comment\ndef,bob,u2\n')
    assert tokens["abc"] == StaticToken("abc", "alice", "u1", ("team-a", "ops"))
    assert tokens["def"].groups == ()
    with pytest.raises(ValueError, match="line 1"):
        parse_token_file("abc,alice\n")


def only(*allowed: tuple[str, str]) -> tuple[list[Attributes], object]:
    asked: list[Attributes] = []

    def authorize(attributes: Attributes) -> Decision:
        asked.append(attributes)
        return Decision((attributes.resource, attributes.name) in allowed)

    return asked, authorize


def values(headers: dict[str, list[str]]) -> tuple[dict[str, str], object]:
    def header_values(key: str) -> Sequence[str]:
        return headers.get(key, [])

    return {k: v[0] for k, v in headers.items()}, header_values


def test_impersonation_checks_each_part() -> None:
    admin = UserInfo("admin", ("ops", "system:authenticated"))
    asked, authorize = only(("users", "bob"), ("groups", "team-b"))
    headers, header_values = values({"Impersonate-User": ["bob"], "Impersonate-Group": ["team-b"]})
    user = impersonate(admin, headers, header_values, authorize)  # type: ignore[arg-type]
    assert user == UserInfo("bob", ("team-b", "system:authenticated"))
    assert [(a.verb, a.resource, a.name) for a in asked] == [
        ("impersonate", "users", "bob"),
        ("impersonate", "groups", "team-b"),
    ]
    headers, header_values = values({"Impersonate-User": ["bob"], "Impersonate-Group": ["system:masters"]})
    with pytest.raises(ApiError) as caught:
        impersonate(admin, headers, header_values, authorize)  # type: ignore[arg-type]
    assert caught.value.message == (
        'groups "system:masters" is forbidden: User "admin" cannot impersonate resource "groups" in API group "" '
        "at the cluster scope"
    )


def test_impersonating_a_service_account_gives_its_groups() -> None:
    asked, authorize = only(("serviceaccounts", "ci"))
    headers, header_values = values({"Impersonate-User": ["system:serviceaccount:a:ci"]})
    user = impersonate(UserInfo("admin"), headers, header_values, authorize)  # type: ignore[arg-type]
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated")
    assert (asked[0].namespace, asked[0].resource, asked[0].name) == ("a", "serviceaccounts", "ci")


def test_no_headers_no_change() -> None:
    _, authorize = only()
    headers, header_values = values({})
    assert impersonate(UserInfo("admin"), headers, header_values, authorize) == UserInfo("admin")  # type: ignore[arg-type]
