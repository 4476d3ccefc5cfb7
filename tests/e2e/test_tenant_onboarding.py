"""Tenant onboarding on the development stack's API server (authentication and RBAC on, the chart's
RBAC and roles applied): charts/atomesh-tenant rendered for two teams and applied with the real kubectl;
then the real `kubectl auth can-i` and real requests of team A's editor (a client certificate: CN = user,
O = groups) agree: A's runs may be created, B's may not, refused with kube-apiserver's own 403 message."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from atomesh.devstack.identity import OPERATOR_NAMESPACE, chart_rbac
from tests.fixtures.kube import Kubectl, SecuredKubeAPI, kubectl_binaries, secured_kube_api

pytestmark = pytest.mark.e2e

CHART = Path(__file__).resolve().parents[2] / "charts" / "atomesh-tenant"
KUBECTL = kubectl_binaries()[0]
TEAMS = ("team-a", "team-b")
USERS = {"alice": ("team-a-editors",), "victor": ("team-a-viewers",), "bob": ("team-b-editors",)}


def tenant(team: str) -> str:
    """The tenant chart rendered for `team`: its groups, a budget and the runner policy."""
    values = {
        "roles": {"edit": {"groups": [f"{team}-editors"]}, "view": {"groups": [f"{team}-viewers"]}},
        "budget": {"spec": {"perDay": {"usd": 25}}},
        "networkPolicy": {"model": {"cidrs": ["10.20.0.0/16"]}, "forge": {"cidrs": ["140.82.112.0/20"]}},
    }
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(values))
        manifests = chart.render(values, name=team, namespace=team, is_install=True)
    return "\n---\n".join(text for path, text in sorted(manifests.items()) if path.endswith(".yaml"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    with secured_kube_api(tmp_path_factory.mktemp("tenants")) as api:
        api.apply_crds()
        api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OPERATOR_NAMESPACE}})
        for obj in chart_rbac():
            api.apply(obj)
        admin = Kubectl(KUBECTL[0], KUBECTL[1], api.kubeconfig, api.cache_dir / "admin")
        for team in TEAMS:
            admin("create", "namespace", team)
            admin("apply", "-n", team, "-f", "-", input=tenant(team))
        yield api


def kubectl_as(api: SecuredKubeAPI, user: str) -> Kubectl:
    return Kubectl(KUBECTL[0], KUBECTL[1], api.kubeconfig_for(user, *USERS[user]), api.cache_dir / user)


def run_manifest(namespace: str) -> str:
    run: dict[str, Any] = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": "tidy-by-alice", "namespace": namespace},
        "spec": {"agentRef": {"name": "tidy"}},
    }
    return yaml.safe_dump(run)


def test_the_template_creates_each_teams_bindings_budget_and_runner_policy(cluster: SecuredKubeAPI) -> None:
    admin = Kubectl(KUBECTL[0], KUBECTL[1], cluster.kubeconfig, cluster.cache_dir / "admin")
    for team in TEAMS:
        objects = json.loads(admin("get", "rolebindings,budgets,networkpolicies", "-n", team, "-o", "json").stdout)
        found = sorted((o["kind"], o["metadata"]["name"]) for o in objects["items"])
        assert found == [
            ("Budget", team),
            ("NetworkPolicy", "atomesh-runner"),
            ("RoleBinding", "atomesh-edit"),
            ("RoleBinding", "atomesh-view"),
        ]
    table = admin("get", "netpol", "-n", "team-a").stdout.split()
    assert table[:3] == ["NAME", "POD-SELECTOR", "AGE"]
    assert "app.kubernetes.io/managed-by=atomesh,atomesh.io/component=runner" in table


# (user, verb, resource, namespace, allowed)
CASES = [
    ("alice", "create", "agentruns", "team-a", True),
    ("alice", "patch", "agentruns", "team-a", True),
    ("alice", "create", "agentruns", "team-b", False),
    ("alice", "list", "agentruns", "team-b", False),
    ("victor", "list", "agentruns", "team-a", True),
    ("victor", "create", "agentruns", "team-a", False),
    ("bob", "create", "agentruns", "team-b", True),
    ("bob", "create", "agentruns", "team-a", False),
    ("alice", "delete", "budgets", "team-a", False),  # a team's budget is the platform team's
]


@pytest.mark.parametrize(("user", "verb", "resource", "namespace", "allowed"), CASES)
def test_kubectl_auth_can_i_answers_per_team(
    cluster: SecuredKubeAPI, user: str, verb: str, resource: str, namespace: str, allowed: bool
) -> None:
    result = kubectl_as(cluster, user)("auth", "can-i", verb, resource, "-n", namespace, check=False)
    assert (result.returncode, result.stdout.strip()) == ((0, "yes") if allowed else (1, "no"))


def test_team_as_editor_creates_runs_in_a_and_is_refused_in_b_with_the_real_message(cluster: SecuredKubeAPI) -> None:
    alice = kubectl_as(cluster, "alice")
    created = alice("create", "-f", "-", input=run_manifest("team-a"))
    assert created.stdout.strip() == "agentrun.atomesh.io/tidy-by-alice created"
    refused = alice("create", "-f", "-", input=run_manifest("team-b"), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'Error from server (Forbidden): error when creating "STDIN": agentruns.atomesh.io is forbidden: User '
        '"alice" cannot create resource "agentruns" in API group "atomesh.io" in the namespace "team-b"'
    )
