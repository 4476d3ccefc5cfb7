"""RBAC evaluation as kube-apiserver does it: rule matching (evaluation_helpers.go), request info
(requestinfo.go), the escalation check's coverage and messages, aggregation selectors."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.devstack.kube.aggregation import aggregated_rules, selector_matches
from atomesh.devstack.kube.rbac import applies_to, deny, forbidden_message
from atomesh.devstack.kube.rbac_eval import (
    Attributes,
    UserInfo,
    compact_rules,
    compact_string,
    missing_rules,
    rule_allows,
)
from atomesh.devstack.kube.requestinfo import resolve

ALICE = UserInfo("alice", ("team-a", "system:authenticated"))


def attrs(
    verb: str, resource: str, sub: str = "", name: str = "", group: str = "atomesh.io", ns: str = "a"
) -> Attributes:
    return Attributes(ALICE, verb, True, namespace=ns, api_group=group, resource=resource, subresource=sub, name=name)


def rule(**fields: Any) -> dict[str, Any]:
    return fields


@pytest.mark.parametrize(
    ("the_rule", "request_", "allowed"),
    [
        (rule(verbs=["get"], apiGroups=["atomesh.io"], resources=["agentruns"]), attrs("get", "agentruns"), True),
        (rule(verbs=["get"], apiGroups=["atomesh.io"], resources=["agentruns"]), attrs("list", "agentruns"), False),
        (rule(verbs=["*"], apiGroups=["*"], resources=["*"]), attrs("delete", "agentruns", "status"), True),
        # a resource rule does not reach its subresources...
        (
            rule(verbs=["patch"], apiGroups=["atomesh.io"], resources=["agentruns"]),
            attrs("patch", "agentruns", "status"),
            False,
        ),
        (
            rule(verbs=["patch"], apiGroups=["atomesh.io"], resources=["agentruns/status"]),
            attrs("patch", "agentruns", "status"),
            True,
        ),
        # ... unless it names them, or all of one subresource with */sub
        (
            rule(verbs=["patch"], apiGroups=["atomesh.io"], resources=["*/status"]),
            attrs("patch", "agents", "status"),
            True,
        ),
        (rule(verbs=["patch"], apiGroups=["atomesh.io"], resources=["*/status"]), attrs("patch", "agents"), False),
        (rule(verbs=["get"], apiGroups=[""], resources=["agentruns"]), attrs("get", "agentruns"), False),
        # resourceNames: only requests that name one of them (never a list or a create)
        (
            rule(verbs=["get"], apiGroups=["atomesh.io"], resources=["agents"], resourceNames=["x"]),
            attrs("get", "agents", name="x"),
            True,
        ),
        (
            rule(verbs=["get"], apiGroups=["atomesh.io"], resources=["agents"], resourceNames=["x"]),
            attrs("get", "agents", name="y"),
            False,
        ),
        (
            rule(verbs=["list"], apiGroups=["atomesh.io"], resources=["agents"], resourceNames=["x"]),
            attrs("list", "agents"),
            False,
        ),
    ],
)
def test_rule_matching(the_rule: dict[str, Any], request_: Attributes, allowed: bool) -> None:
    assert rule_allows(request_, the_rule) is allowed


@pytest.mark.parametrize(
    ("urls", "path", "allowed"),
    [
        (["/healthz"], "/healthz", True),
        (["/apis/*"], "/apis/atomesh.io/v1alpha1", True),
        (["/apis/*"], "/api", False),
        (["*"], "/x", True),
    ],
)
def test_non_resource_urls(urls: list[str], path: str, allowed: bool) -> None:
    request_ = Attributes(ALICE, "get", False, path=path)
    assert rule_allows(request_, rule(verbs=["get"], nonResourceURLs=urls)) is allowed


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        (
            "GET",
            "/apis/atomesh.io/v1alpha1/namespaces/a/agentruns",
            {},
            ("list", "atomesh.io", "agentruns", "", "", "a"),
        ),
        (
            "GET",
            "/apis/atomesh.io/v1alpha1/namespaces/a/agentruns",
            {"watch": "true"},
            ("watch", "atomesh.io", "agentruns", "", "", "a"),
        ),
        (
            "GET",
            "/apis/atomesh.io/v1alpha1/agentruns",
            {"fieldSelector": "metadata.name=r1"},
            ("list", "atomesh.io", "agentruns", "", "r1", ""),
        ),
        (
            "PATCH",
            "/apis/atomesh.io/v1alpha1/namespaces/a/agentruns/r1/status",
            {},
            ("patch", "atomesh.io", "agentruns", "status", "r1", "a"),
        ),
        ("DELETE", "/api/v1/namespaces/a/pods", {}, ("deletecollection", "", "pods", "", "", "a")),
        ("POST", "/api/v1/namespaces/a/pods/p/binding", {}, ("create", "", "pods", "binding", "p", "a")),
        ("GET", "/api/v1/namespaces/a", {}, ("get", "", "namespaces", "", "a", "a")),
        ("PUT", "/api/v1/namespaces/a/finalize", {}, ("update", "", "namespaces", "finalize", "a", "a")),
    ],
)
def test_request_info(method: str, path: str, query: dict[str, str], expected: tuple[str, ...]) -> None:
    info = resolve(ALICE, method, path, query)
    assert info.resource_request
    assert (info.verb, info.api_group, info.resource, info.subresource, info.name, info.namespace) == expected


@pytest.mark.parametrize("path", ["/api", "/api/v1", "/apis/atomesh.io/v1alpha1", "/version", "/openapi/v3"])
def test_discovery_paths_are_non_resource_requests(path: str) -> None:
    info = resolve(ALICE, "GET", path, {})
    assert not info.resource_request
    assert (info.verb, info.path) == ("get", path)


def test_forbidden_messages_are_the_api_servers() -> None:
    assert forbidden_message(attrs("list", "agentruns", ns="b")) == (
        'User "alice" cannot list resource "agentruns" in API group "atomesh.io" in the namespace "b"'
    )
    assert forbidden_message(attrs("get", "nodes", group="", ns="")) == (
        'User "alice" cannot get resource "nodes" in API group "" at the cluster scope'
    )
    assert (
        forbidden_message(Attributes(ALICE, "get", False, path="/metrics")) == 'User "alice" cannot get path "/metrics"'
    )
    error = deny(attrs("patch", "agentruns", "status", name="r1"))
    assert error.code == 403
    assert error.message == (
        'agentruns.atomesh.io "r1" is forbidden: User "alice" cannot patch resource "agentruns/status" in API group '
        '"atomesh.io" in the namespace "a"'
    )
    assert error.status()["details"] == {"name": "r1", "group": "atomesh.io", "kind": "agentruns"}


def test_subjects() -> None:
    sa = UserInfo("system:serviceaccount:a:ci", ("system:serviceaccounts",))
    assert applies_to(sa, {"kind": "ServiceAccount", "name": "ci"}, "a")  # namespace defaults to the binding's
    assert not applies_to(sa, {"kind": "ServiceAccount", "name": "ci"}, "b")
    assert applies_to(ALICE, {"kind": "Group", "name": "team-a"}, "")
    assert not applies_to(ALICE, {"kind": "User", "name": "team-a"}, "")


def test_escalation_coverage_and_message() -> None:
    held = [rule(verbs=["get", "list"], apiGroups=["atomesh.io"], resources=["*"])]
    asked = [rule(verbs=["get", "list", "delete"], apiGroups=["atomesh.io"], resources=["agents", "agentruns"])]
    missing = missing_rules(held, asked)
    assert [compact_string(r) for r in compact_rules(missing)] == [
        '{APIGroups:["atomesh.io"], Resources:["agents"], Verbs:["delete"]}',
        '{APIGroups:["atomesh.io"], Resources:["agentruns"], Verbs:["delete"]}',
    ]
    assert missing_rules([rule(verbs=["*"], apiGroups=["*"], resources=["*"])], asked) == []
    # a named grant covers only the same names
    named = [rule(verbs=["get"], apiGroups=[""], resources=["secrets"], resourceNames=["s1"])]
    assert missing_rules(named, [rule(verbs=["get"], apiGroups=[""], resources=["secrets"])]) != []
    assert (
        missing_rules(named, [rule(verbs=["get"], apiGroups=[""], resources=["secrets"], resourceNames=["s1"])]) == []
    )


def test_aggregation_selectors() -> None:
    labels = {"rbac.authorization.k8s.io/aggregate-to-view": "true", "tier": "x"}
    assert selector_matches({"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}, labels)
    assert not selector_matches({"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["x", "y"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, labels)
    aggregated = {
        "metadata": {"name": "view"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "v"}}]},
    }
    parts = [
        {"metadata": {"name": "b", "labels": {"agg": "v"}}, "rules": [rule(verbs=["get"]), rule(verbs=["list"])]},
        {"metadata": {"name": "a", "labels": {"agg": "v"}}, "rules": [rule(verbs=["list"])]},
        {"metadata": {"name": "c"}, "rules": [rule(verbs=["delete"])]},
    ]
    # by role name, each rule once, unlabelled roles left out
    assert aggregated_rules(aggregated, [aggregated, *parts]) == [rule(verbs=["list"]), rule(verbs=["get"])]
