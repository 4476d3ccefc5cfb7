"""The tenant chart (charts/atomesh-tenant), rendered by Helm's real engine and every object validated
against Kubernetes' own schemas: a team's RoleBindings of the atomesh roles, its Budget, its credentials
only by reference (ExternalSecrets; never a value), and the NetworkPolicy of its runner pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from tests.unit.core.core_builders import run, snapshot
from tests.unit.packaging.test_chart import KUBE_VERSIONS

from atomesh.api.budget import Budget
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import build_runner_pod

CHART = Path(__file__).resolve().parents[3] / "charts" / "atomesh-tenant"
MAIN_ROLES = Path(__file__).resolve().parents[3] / "charts" / "atomesh" / "templates" / "roles.yaml"
TEAM = "team-a"
CONFIG = OperatorConfig(
    runner_image="ghcr.io/atomesh/atomesh:test", forge_api_url="https://f/api/v3", forge_git_url="https://f"
)
FULL: dict[str, Any] = {
    "roles": {
        "view": {"groups": ["team-a-viewers"]},
        "edit": {"groups": ["team-a-editors"], "users": ["alice@example.com"]},
        "admin": {"groups": ["team-a-admins"]},
    },
    "budget": {"spec": {"perDay": {"usd": 20}, "perMonth": {"usd": 300}, "timezone": "Europe/Paris"}},
    "credentials": {
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
        "forge": {"remoteRef": {"key": "teams/a/github", "property": "token"}},
        "model": {"remoteRef": {"key": "teams/a/anthropic"}},
    },
    "networkPolicy": {
        "model": {"cidrs": ["10.20.0.0/16"]},
        "forge": {"cidrs": ["140.82.112.0/20"]},
        "extraEgress": [{"to": [{"ipBlock": {"cidr": "10.30.0.0/24"}}], "ports": [{"port": 443}]}],
    },
}
MINIMAL: dict[str, Any] = {"networkPolicy": {"model": {"cidrs": ["10.0.0.0/8"]}, "forge": {"cidrs": ["10.0.0.0/8"]}}}
SCENARIOS = {
    "full": FULL,
    "minimal": MINIMAL,
    "no-policy": {"networkPolicy": {"enabled": False}, "roles": {"view": {"users": ["v"]}}},
}
# Kinds Kubernetes ships no schema for: the Budget is checked against atomesh's model instead.
NO_UPSTREAM_SCHEMA = {"Budget", "ExternalSecret"}


def render(values: dict[str, Any], namespace: str = TEAM) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(values))
        manifests = chart.render(values, name=namespace, namespace=namespace, is_install=True)
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lint_is_clean(scenario: str) -> None:
    report = helm.lint(CHART, SCENARIOS[scenario], strict=True, namespace=TEAM, kube_version="v1.30.0")
    assert not [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_rendered_objects_validate_strictly_and_stay_in_the_team_namespace(scenario: str) -> None:
    objects = render(SCENARIOS[scenario])
    assert objects
    for obj in objects:
        assert obj["metadata"]["namespace"] == TEAM
        if obj["kind"] == "Budget":
            Budget.model_validate(obj)
            continue
        if obj["kind"] in NO_UPSTREAM_SCHEMA:
            continue
        for version in KUBE_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


def test_role_bindings_bind_the_main_charts_roles_to_the_teams_groups_and_users() -> None:
    bindings = {b["metadata"]["name"]: b for b in of_kind(render(FULL), "RoleBinding")}
    assert set(bindings) == {"atomesh-view", "atomesh-edit", "atomesh-admin"}
    edit = bindings["atomesh-edit"]
    assert edit["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "atomesh-edit"}
    assert [(s["kind"], s["name"]) for s in edit["subjects"]] == [
        ("Group", "team-a-editors"),
        ("User", "alice@example.com"),
    ]
    # The roles it names are those the atomesh chart ships (<release fullname>-view|edit|admin).
    shipped = MAIN_ROLES.read_text()
    assert all(f"name: {{{{ $fullname }}}}-{role}" in shipped for role in ("view", "edit", "admin"))
    assert not of_kind(render(MINIMAL), "RoleBinding")  # nobody named, nobody bound


def test_credentials_are_references_only() -> None:
    objects = render(FULL)
    assert not of_kind(objects, "Secret")
    secrets = {e["spec"]["target"]["name"]: e for e in of_kind(objects, "ExternalSecret")}
    assert set(secrets) == {"atomesh-forge", "atomesh-model"}  # the Secrets runner pods use by default
    assert secrets["atomesh-forge"]["spec"]["data"] == [
        {"secretKey": "token", "remoteRef": {"key": "teams/a/github", "property": "token"}}
    ]
    assert secrets["atomesh-model"]["spec"]["data"] == [
        {"secretKey": "api-key", "remoteRef": {"key": "teams/a/anthropic"}}
    ]
    assert not of_kind(render(MINIMAL), "ExternalSecret")


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"credentials": {"forge": {"token": "ghp_x"}}}, "token"),
        ({"credentials": {"model": {"remoteRef": {"key": "k", "value": "sk-x"}}}}, "value"),
        ({"networkPolicy": {"enabled": True}}, "/networkPolicy/model"),
        ({"roles": {"edit": {"groups": [""]}}}, "/roles/edit/groups/0"),
        ({"rolePrefix": "Atomesh"}, "/rolePrefix"),
    ],
)
def test_values_schema_refuses_secret_values_and_an_open_network_and_names_the_field(
    values: dict[str, Any], where: str
) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as error:
        chart.validate_schema(chart.merge_values(values))
    assert where in str(error.value)


def test_the_network_policy_selects_runner_pods_and_lets_them_reach_only_dns_model_and_forge() -> None:
    (policy,) = of_kind(render(FULL), "NetworkPolicy")
    labels = build_runner_pod(run(), snapshot(), CONFIG)["metadata"]["labels"]
    selector = policy["spec"]["podSelector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in policy["spec"]
    peers = [peer for rule in policy["spec"]["egress"] for peer in rule["to"]]
    cidrs = [peer["ipBlock"]["cidr"] for peer in peers if "ipBlock" in peer]
    assert cidrs == ["10.20.0.0/16", "140.82.112.0/20", "10.30.0.0/24"]
    assert policy["spec"]["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }


def test_budget_caps_the_namespace() -> None:
    (budget,) = of_kind(render(FULL), "Budget")
    parsed = Budget.model_validate(budget)
    assert parsed.spec.selector is None  # every Agent of the namespace
    assert (parsed.spec.per_day and parsed.spec.per_day.usd, parsed.spec.timezone) == (20, "Europe/Paris")
    assert not of_kind(render(MINIMAL), "Budget")


def test_the_install_docs_tenant_values_are_accepted_and_render() -> None:
    text = (CHART.parents[1] / "docs" / "install.md").read_text()
    block = text.split("# team-a.yaml\n", 1)[1].split("```", 1)[0]
    objects = render(yaml.safe_load(block))
    assert {o["kind"] for o in objects} == {"RoleBinding", "Budget", "ExternalSecret", "NetworkPolicy"}
