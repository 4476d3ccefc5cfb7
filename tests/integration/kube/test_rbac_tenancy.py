"""Teams share one API server: the chart's roles for people, bound per namespace, decide who may do
what with atomesh's resources, and the real `kubectl auth can-i` agrees with what the API server
enforces in every case of a table. Users authenticate with client certificates (CN = user,
O = groups), as kubeadm's users do; enforcement is checked with real requests of the same users."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from tests.fixtures.kube import Kubectl, SecuredKubeAPI, kubectl_binaries, secured_kube_api

from atomesh.devstack.identity import OPERATOR_NAMESPACE, chart_rbac

pytestmark = pytest.mark.integration

GROUP, VERSION = "atomesh.io", "v1alpha1"
TEAM_A, TEAM_B = "team-a", "team-b"
# user -> groups: two teams, one editor group each, a viewer and an admin in team A.
USERS = {
    "alice": ("team-a-editors",),
    "victor": ("team-a-viewers",),
    "ada": ("team-a-admins",),
    "bob": ("team-b-editors",),
}
BINDINGS = [  # namespace, ClusterRole, group
    (TEAM_A, "atomesh-edit", "team-a-editors"),
    (TEAM_A, "atomesh-view", "team-a-viewers"),
    (TEAM_A, "admin", "team-a-admins"),  # Kubernetes' admin, which aggregates atomesh-admin
    (TEAM_B, "edit", "team-b-editors"),  # Kubernetes' edit, which aggregates atomesh-edit
]
KUBECTL = kubectl_binaries()[0]


def binding(namespace: str, role: str, group: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": f"{role}-{group}", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }


def agent_run(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentRun",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"agentRef": {"name": "tidy"}, "input": {}},
    }


@pytest.fixture(scope="module")
def tenancy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    with secured_kube_api(tmp_path_factory.mktemp("tenancy")) as api:
        api.apply_crds()
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}})
        for obj in chart_rbac():
            api.apply(obj)
        for namespace in (TEAM_A, TEAM_B):
            api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            api.apply(agent_run("r1", namespace))
        for namespace, role, group in BINDINGS:
            api.apply(binding(namespace, role, group))
        yield api


def kubectl_as(api: SecuredKubeAPI, user: str) -> Kubectl:
    binary, version = KUBECTL
    return Kubectl(binary, version, api.kubeconfig_for(user, *USERS[user]), api.cache_dir / user)


def new_object(resource: str, namespace: str) -> dict[str, Any]:
    if resource == "agentruns":
        return agent_run("new", namespace)
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Agent", "metadata": {"name": "new", "namespace": namespace}}


def status_of(api: SecuredKubeAPI, user: str, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """One request as `user` (its client certificate); the HTTP status and the decoded body."""
    pair = api.pki.client(user, USERS[user])
    directory = api.kubeconfig.parent / "certs"
    directory.mkdir(exist_ok=True)
    cert, key = directory / f"{user}.crt", directory / f"{user}.key"
    cert.write_bytes(pair.certificate_pem)
    key.write_bytes(pair.key_pem)
    context = ssl.create_default_context(cadata=api.pki.ca_pem.decode())
    context.load_cert_chain(cert, key)
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api.url + path, data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def enforced(api: SecuredKubeAPI, user: str, verb: str, resource: str, namespace: str) -> bool:
    """Whether the API server lets `user` do it: a real request, harmless either way (a dry-run
    create; a patch, get or delete of an object that does not exist answers 404 once authorised;
    an authorised create of an invalid Agent answers 422)."""
    base = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{resource}"
    missing = f"{base}/does-not-exist"
    code, _ = {
        "list": lambda: status_of(api, user, "GET", base),
        "get": lambda: status_of(api, user, "GET", missing),
        "create": lambda: status_of(api, user, "POST", base + "?dryRun=All", new_object(resource, namespace)),
        "patch": lambda: status_of(api, user, "PATCH", missing, {"spec": {"cancel": True}}),
        "delete": lambda: status_of(api, user, "DELETE", missing),
        "deletecollection": lambda: status_of(api, user, "DELETE", base + "?labelSelector=nothing%3Dmatches"),
    }[verb]()
    assert code in (200, 201, 403, 404, 422), code
    return code != 403


# (user, verb, resource, namespace, allowed)
CASES = [
    # team A's editor: everything but deleting whole collections, in A only
    *[("alice", v, "agentruns", TEAM_A, True) for v in ("list", "get", "create", "patch", "delete")],
    ("alice", "deletecollection", "agentruns", TEAM_A, False),
    ("alice", "create", "agents", TEAM_A, True),
    *[("alice", v, "agentruns", TEAM_B, False) for v in ("list", "get", "create", "patch")],
    # team A's viewer: reads, never starts or cancels a run
    *[("victor", v, "agentruns", TEAM_A, True) for v in ("list", "get")],
    *[("victor", v, "agentruns", TEAM_A, False) for v in ("create", "patch", "delete")],
    ("victor", "list", "agents", TEAM_A, True),
    ("victor", "create", "agents", TEAM_A, False),
    ("victor", "list", "agentruns", TEAM_B, False),
    # team A's admin (Kubernetes' admin aggregates atomesh-admin): all of it, in A only
    *[("ada", v, "agentruns", TEAM_A, True) for v in ("list", "create", "patch", "delete", "deletecollection")],
    ("ada", "list", "agentruns", TEAM_B, False),
    # team B's editor holds Kubernetes' edit, which aggregates atomesh-edit
    *[("bob", v, "agentruns", TEAM_B, True) for v in ("list", "create", "patch")],
    ("bob", "deletecollection", "agentruns", TEAM_B, False),
    *[("bob", v, "agentruns", TEAM_A, False) for v in ("list", "get", "create", "patch", "delete")],
    ("bob", "create", "agents", TEAM_A, False),
]


def test_the_table_has_enough_cases() -> None:
    assert len(CASES) >= 30
    assert {allowed for *_, allowed in CASES} == {True, False}


@pytest.mark.parametrize(("user", "verb", "resource", "namespace", "allowed"), CASES)
def test_can_i_agrees_with_enforcement(
    tenancy: SecuredKubeAPI, user: str, verb: str, resource: str, namespace: str, allowed: bool
) -> None:
    answer = kubectl_as(tenancy, user)("auth", "can-i", verb, f"{resource}.{GROUP}", "-n", namespace, check=False)
    assert answer.stdout.strip() == ("yes" if allowed else "no"), answer.stderr
    assert answer.returncode == (0 if allowed else 1)
    assert enforced(tenancy, user, verb, resource, namespace) is allowed


def test_another_teams_runs_are_forbidden_with_the_api_servers_message(tenancy: SecuredKubeAPI) -> None:
    listed = kubectl_as(tenancy, "alice")("get", "agentruns", "-n", TEAM_B, check=False)
    assert listed.returncode == 1
    assert (
        'Error from server (Forbidden): agentruns.atomesh.io is forbidden: User "alice" cannot list resource '
        '"agentruns" in API group "atomesh.io" in the namespace "team-b"'
    ) in listed.stderr
    code, status = status_of(
        tenancy, "alice", "POST", f"/apis/{GROUP}/{VERSION}/namespaces/{TEAM_B}/agentruns", agent_run("x", TEAM_B)
    )
    assert code == 403
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'agentruns.atomesh.io is forbidden: User "alice" cannot create resource "agentruns" in API group '
        '"atomesh.io" in the namespace "team-b"',
        "reason": "Forbidden",
        "details": {"group": "atomesh.io", "kind": "agentruns"},
        "code": 403,
    }
    code, status = status_of(tenancy, "victor", "PATCH", f"/apis/{GROUP}/{VERSION}/namespaces/{TEAM_A}/agentruns/r1")
    assert code == 403
    assert status["message"] == (
        'agentruns.atomesh.io "r1" is forbidden: User "victor" cannot patch resource "agentruns" in API group '
        '"atomesh.io" in the namespace "team-a"'
    )
    assert status["details"] == {"name": "r1", "group": "atomesh.io", "kind": "agentruns"}


def test_kubernetes_default_roles_aggregate_the_atomesh_roles(tenancy: SecuredKubeAPI) -> None:
    for default, ours in (("view", "atomesh-view"), ("edit", "atomesh-edit"), ("admin", "atomesh-admin")):
        role = tenancy.request("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{default}")
        theirs = tenancy.request("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{ours}")
        assert all(rule in role["rules"] for rule in theirs["rules"]), default
    # edit aggregates Kubernetes' view rules too, admin the edit ones; view has no atomesh writes
    view = tenancy.request("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view")["rules"]
    assert not any("create" in r.get("verbs", []) and GROUP in r.get("apiGroups", []) for r in view)


def test_a_role_labelled_later_is_aggregated_at_once(tenancy: SecuredKubeAPI) -> None:
    tenancy.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": "leases-view",
                "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"},
            },
            "rules": [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get"]}],
        }
    )
    bob = kubectl_as(tenancy, "bob")
    assert bob("auth", "can-i", "get", "leases", "-n", TEAM_B).stdout.strip() == "yes"  # edit aggregates view
    tenancy.request("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterroles/leases-view")
    assert bob("auth", "can-i", "get", "leases", "-n", TEAM_B, check=False).stdout.strip() == "no"


def test_whoami_and_the_list_of_rules(tenancy: SecuredKubeAPI) -> None:
    whoami = kubectl_as(tenancy, "victor")("auth", "whoami", "-o", "json")
    info = json.loads(whoami.stdout)["status"]["userInfo"]
    assert info == {"username": "victor", "groups": ["team-a-viewers", "system:authenticated"]}
    listed = kubectl_as(tenancy, "victor")("auth", "can-i", "--list", "-n", TEAM_A).stdout
    row = next(line for line in listed.splitlines() if line.startswith("agentruns.atomesh.io "))
    assert "[get list watch]" in row


def test_impersonation_needs_the_impersonate_verb(tenancy: SecuredKubeAPI) -> None:
    admin = Kubectl(KUBECTL[0], KUBECTL[1], tenancy.kubeconfig, tenancy.cache_dir / "admin")
    as_bob = ("--as", "bob", "--as-group", "team-b-editors")
    assert admin("auth", "can-i", "create", "agentruns.atomesh.io", "-n", TEAM_B, *as_bob).stdout.strip() == "yes"
    assert admin("auth", "can-i", "create", "agentruns.atomesh.io", "-n", TEAM_A, *as_bob, check=False).returncode == 1
    denied = kubectl_as(tenancy, "alice")("get", "agentruns", "-n", TEAM_B, "--as", "bob", check=False)
    assert (
        'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the '
        "cluster scope"
    ) in denied.stderr


def test_service_account_tokens_from_kubectl_create_token(tenancy: SecuredKubeAPI) -> None:
    admin = Kubectl(KUBECTL[0], KUBECTL[1], tenancy.kubeconfig, tenancy.cache_dir / "admin")
    admin("create", "serviceaccount", "ci", "-n", TEAM_A)
    admin(
        "create", "rolebinding", "ci-edit", "--clusterrole=atomesh-edit", f"--serviceaccount={TEAM_A}:ci", "-n", TEAM_A
    )
    token = admin("create", "token", "ci", "-n", TEAM_A).stdout.strip()
    ci = Kubectl(KUBECTL[0], KUBECTL[1], tenancy.token_kubeconfig("ci", token), tenancy.cache_dir / "ci")
    info = json.loads(ci("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert info["username"] == f"system:serviceaccount:{TEAM_A}:ci"
    assert info["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{TEAM_A}", "system:authenticated"]
    assert ci("auth", "can-i", "create", "agentruns.atomesh.io", "-n", TEAM_A).stdout.strip() == "yes"
    assert ci("auth", "can-i", "create", "agentruns.atomesh.io", "-n", TEAM_B, check=False).returncode == 1
    admin("delete", "serviceaccount", "ci", "-n", TEAM_A)
    gone = ci("get", "agentruns", "-n", TEAM_A, check=False)
    assert "Unauthorized" in gone.stderr  # a deleted ServiceAccount's tokens die with it


def test_a_team_admin_may_grant_only_what_they_hold(tenancy: SecuredKubeAPI) -> None:
    ada = kubectl_as(tenancy, "ada")
    ada("create", "rolebinding", "carol-edit", "--clusterrole=atomesh-edit", "--user=carol", "-n", TEAM_A)
    refused = ada(
        "create", "rolebinding", "carol-root", "--clusterrole=cluster-admin", "--user=carol", "-n", TEAM_A, check=False
    )
    assert refused.returncode == 1
    assert (
        'rolebindings.rbac.authorization.k8s.io "carol-root" is forbidden: user "ada" (groups=["team-a-admins" '
        '"system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
    ) in refused.stderr
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "node-reader", "namespace": TEAM_A},
        "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}],
    }
    escalated = ada("apply", "-f", "-", input=yaml.safe_dump(role), check=False)
    assert escalated.returncode == 1
    assert '{APIGroups:[""], Resources:["nodes"], Verbs:["get" "list"]}' in escalated.stderr


def test_subject_access_reviews(tenancy: SecuredKubeAPI) -> None:
    """What a webhook or a console asks on behalf of a user: SubjectAccessReview (cluster-wide) and
    LocalSubjectAccessReview (one namespace), answered by the authoriser that enforces requests."""
    base = "/apis/authorization.k8s.io/v1"

    def spec(user: str, verb: str, namespace: str = "") -> dict[str, Any]:
        attributes = {"verb": verb, "group": GROUP, "resource": "agentruns"}
        if namespace:
            attributes["namespace"] = namespace
        return {"spec": {"user": user, "groups": list(USERS[user]), "resourceAttributes": attributes}}

    def review(user: str, namespace: str, verb: str) -> dict[str, Any]:
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", **spec(user, verb, namespace)}
        status: dict[str, Any] = tenancy.request("POST", f"{base}/subjectaccessreviews", body)["status"]
        return status

    assert review("alice", TEAM_A, "create") == {
        "allowed": True,
        "reason": 'RBAC: allowed by RoleBinding "atomesh-edit-team-a-editors/team-a" of ClusterRole "atomesh-edit" '
        'to Group "team-a-editors"',
    }
    assert review("alice", TEAM_B, "create") == {"allowed": False}
    assert review("victor", TEAM_A, "patch") == {"allowed": False}
    local = {"apiVersion": "authorization.k8s.io/v1", "kind": "LocalSubjectAccessReview", **spec("bob", "create")}
    answer = tenancy.request("POST", f"{base}/namespaces/{TEAM_B}/localsubjectaccessreviews", local)
    assert answer["status"]["allowed"] is True
    # asking about others needs the right to: an editor has none
    code, status = status_of(tenancy, "alice", "POST", f"{base}/subjectaccessreviews", spec("bob", "get", TEAM_A))
    assert (code, status["message"]) == (
        403,
        'subjectaccessreviews.authorization.k8s.io is forbidden: User "alice" cannot create resource '
        '"subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope',
    )
