"""The Helm chart, rendered by Helm's real engine (helm-python-sdk) and every object validated
against the Kubernetes schemas of each version we support."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from atomesh.api import constants
from atomesh.commands.operator import ENVIRONMENT as OPERATOR_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "atomesh"
RELEASE = "atomesh"
NAMESPACE = "atomesh-system"
# Kubernetes minor versions the chart supports (Chart.yaml kubeVersion >=1.30).
KUBE_VERSIONS = [f"1.{minor}" for minor in range(30, 38)]
# Kinds kubernetes-validate has no schema for: validated by their own CRDs, not here.
NO_UPSTREAM_SCHEMA = {"ServiceMonitor", "ClusterKopfPeering", "KopfPeering"}

APP = {"forge": {"auth": {"type": "app", "existingSecret": "github-app"}, "runnerSecret": "atomesh-forge"}}
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "namespace-rbac": {"rbac": {"scope": "namespace"}, "operator": {"watchNamespaces": ["team-a", "team-b"]}},
    "peering-cluster": {"operator": {"replicas": 2}},
    "peering-namespace": {"operator": {"replicas": 3}, "rbac": {"scope": "namespace"}},
    "sharding": {"operator": {"replicas": 2, "sharding": {"shards": 4, "leaseSeconds": 10}}},
    "everything": {
        "image": {"digest": "sha256:" + "a" * 64},
        "runner": {
            "image": {"repository": "registry.example.com/atomesh-runner", "tag": "0.1.0-git"},
            "networkPolicy": {
                "enabled": True,
                "namespaces": ["agents", "team-a"],
                "model": {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm-gateway"}},
                            "podSelector": {"matchLabels": {"app": "gateway"}},
                        }
                    ],
                    "ports": [8080],
                },
                "forge": {"cidrs": ["140.82.112.0/20", "192.30.252.0/22"]},
                "extraEgress": [
                    {"to": [{"ipBlock": {"cidr": "10.9.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 3128}]}
                ],
            },
        },
        "ingress": {"enabled": True, "className": "nginx", "host": "atomesh.example.com", "tlsSecretName": "tls"},
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "forge": {
            "apiUrl": "https://github.example.com/api/v3",
            "gitUrl": "https://github.example.com",
            "auth": {"type": "app", "existingSecret": "github-app"},
            "runnerSecret": "runner-token",
            "webhook": {"existingSecret": "github-webhook"},
            "reviewPollInterval": 15,
        },
        "rbac": {"extraSecretNames": ["extra"]},
        "operator": {"extraEnv": [{"name": "LOG_LEVEL", "value": "debug"}]},
        "otel": {"endpoint": "http://otel-collector.monitoring:4318", "headersSecret": {"name": "otlp-auth"}},
    },
}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith((".yaml", ".yml"))
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def notes(values: dict[str, Any]) -> str:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return manifests[f"{RELEASE}/templates/NOTES.txt"]


def one(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = one(objects, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def rules(role: dict[str, Any]) -> Iterator[tuple[str, str, frozenset[str]]]:
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                yield group, resource, frozenset(rule["verbs"])


# --- Helm's own checks -------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lint_is_clean(scenario: str) -> None:
    report = helm.lint(CHART, SCENARIOS[scenario], strict=True, namespace=NAMESPACE, kube_version="v1.30.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert not problems, problems
    assert not report["errors"]


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"rbac": {"scope": "everywhere"}}, "/rbac/scope"),
        ({"operator": {"replicas": 0}}, "/operator/replicas"),
        ({"operator": {"replicsa": 2}}, "replicsa"),
        ({"forge": {"auth": {"type": "oauth"}}}, "/forge/auth/type"),
        ({"forge": {"auth": {"existingSecret": ""}}}, "/forge/auth/existingSecret"),
        ({"forge": {"auth": {"type": "app"}}}, "/forge/runnerSecret"),
        ({"forge": {"apiUrl": "api.github.com"}}, "/forge/apiUrl"),
        ({"forge": {"reviewPollInterval": 0}}, "/forge/reviewPollInterval"),
        ({"forge": {"triggerPollInterval": -1}}, "/forge/triggerPollInterval"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"runner": {"networkPolicy": {"enabled": True}}}, "/runner/networkPolicy/model"),
        ({"operator": {"watchNamespaces": ["Team_A"]}}, "/operator/watchNamespaces/0"),
        ({"otel": {"endpoint": "otel-collector:4318"}}, "/otel/endpoint"),
    ],
)
def test_values_schema_rejects_a_bad_value_and_names_it(values: dict[str, Any], where: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as error:
        chart.validate_schema(chart.merge_values(values))
    assert where in str(error.value)


def test_values_schema_accepts_every_scenario() -> None:
    with helm.Chart.load(CHART) as chart:
        for values in SCENARIOS.values():
            chart.validate_schema(chart.merge_values(values))


def test_chart_crds_equal_the_generated_crds() -> None:
    generated = sorted((ROOT / "crds").glob("*.yaml"))
    assert generated, "crds/ is empty: run atomesh crds"
    shipped = sorted((CHART / "crds").glob("*.yaml"))
    assert [p.name for p in shipped] == [p.name for p in generated], "copy crds/*.yaml into charts/atomesh/crds/"
    for ours, theirs in zip(shipped, generated, strict=True):
        assert ours.read_text() == theirs.read_text(), f"charts/atomesh/crds/{ours.name} is stale: cp crds/*.yaml"
    with helm.Chart.load(CHART) as chart:
        kinds = {yaml.safe_load(crd["data"])["spec"]["names"]["kind"] for crd in chart.crds}
    assert kinds == {"Agent", "Mesh", "AgentRun", "Context", "Budget"}


# --- every rendered object is valid Kubernetes --------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_rendered_objects_validate_strictly_for_every_supported_version(scenario: str) -> None:
    objects = render(SCENARIOS[scenario])
    crds = [yaml.safe_load(p.read_text()) for p in sorted((CHART / "crds").glob("*.yaml"))]
    skipped = set()
    for obj in objects + crds:
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                skipped.add(obj["kind"])
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path)
                pytest.fail(
                    f"{obj['kind']}/{obj['metadata']['name']} invalid for {version} at {where}: {error.message}"
                )
    assert skipped <= NO_UPSTREAM_SCHEMA


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_chart_never_renders_a_secret_value(scenario: str) -> None:
    objects = render(SCENARIOS[scenario])
    assert not of_kind(objects, "Secret")
    for e in operator_container(objects).get("env", []):
        if e["name"].startswith("ATOMESH_") and "SECRET" in e["name"] and "value" in e:
            pytest.fail(f"{e['name']} must come from a secretKeyRef")


# --- the operator Deployment --------------------------------------------------------------------


def test_default_deployment_runs_one_standalone_hardened_operator() -> None:
    objects = render({})
    deployment = one(objects, "Deployment")
    container = operator_container(objects)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert container["args"] == ["operator", "--all-namespaces", "--standalone", "--metrics-port=8080"]
    assert container["image"] == "ghcr.io/atomesh/atomesh:0.1.0"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert not [e for e in container["env"] if e["name"].startswith("OTEL_")], "no traces unless an endpoint is set"
    assert {"name": "MALLOC_ARENA_MAX", "value": "2"} in container["env"]  # what bench/scale.py measures with
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["serviceAccountName"] == RELEASE
    labels = deployment["metadata"]["labels"]
    for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "helm.sh/chart"):
        assert key in labels


def test_operator_settings_come_from_the_configmap_and_roll_the_pods() -> None:
    objects = render({})
    config = one(objects, "ConfigMap")["data"]
    assert config == {
        "ATOMESH_RUNNER_IMAGE": "ghcr.io/atomesh/atomesh:0.1.0",
        "ATOMESH_FORGE_API_URL": "https://api.github.com",
        "ATOMESH_FORGE_GIT_URL": "https://github.com",
        "ATOMESH_FORGE_SECRET": "atomesh-forge",
        "ATOMESH_MODEL_BASE_URL": "https://api.anthropic.com",
        "ATOMESH_MODEL_SECRET": "atomesh-model",
        "ATOMESH_REVIEW_POLL_INTERVAL": "60",
        "ATOMESH_TRIGGER_POLL_INTERVAL": "0",
    }
    container = operator_container(objects)
    assert container["envFrom"] == [{"configMapRef": {"name": RELEASE}}]
    token = env_of(container)[constants.ENV_FORGE_TOKEN]
    assert token["valueFrom"]["secretKeyRef"] == {"name": "atomesh-forge", "key": "token"}
    assert set(config) <= {*OPERATOR_ENVIRONMENT.values()}, "the operator reads every setting the chart gives it"

    def checksum(values: dict[str, Any]) -> str:
        deployment = one(render(values), "Deployment")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"forge": {"apiUrl": "https://github.example.com/api/v3"}})


def test_replicas_above_one_turn_on_peering_with_kopf_crds() -> None:
    objects = render(SCENARIOS["peering-cluster"])
    deployment = one(objects, "Deployment")
    args = operator_container(objects)["args"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert "--peering=atomesh" in args
    assert "--standalone" not in args
    crds = {o["metadata"]["name"] for o in of_kind(objects, "CustomResourceDefinition")}
    assert crds == {"clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"}
    peering = one(objects, "ClusterKopfPeering")
    assert peering["metadata"]["name"] == "atomesh"
    assert "post-install" in peering["metadata"]["annotations"]["helm.sh/hook"]
    discovery = set(rules(one(objects, "ClusterRole", "atomesh-discovery")))
    assert ("kopf.dev", "clusterkopfpeerings", frozenset({"get", "list", "watch", "patch"})) in discovery

    assert not of_kind(
        render({"operator": {"replicas": 2, "peering": {"createCRDs": False}}}), "CustomResourceDefinition"
    )
    assert not of_kind(render({}), "CustomResourceDefinition")


def test_namespaced_peering_keeps_alive_in_each_watched_namespace() -> None:
    objects = render(SCENARIOS["peering-namespace"])
    (peering,) = of_kind(objects, "KopfPeering")
    assert peering["metadata"]["namespace"] == NAMESPACE
    assert not of_kind(objects, "ClusterKopfPeering")
    role = one(objects, "Role", "atomesh")
    assert ("kopf.dev", "kopfpeerings", frozenset({"get", "list", "watch", "patch"})) in set(rules(role))


def test_sharded_replicas_run_standalone_with_shard_leases_instead_of_peering() -> None:
    objects = render(SCENARIOS["sharding"])
    deployment = one(objects, "Deployment")
    container = operator_container(objects)
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate"}
    assert {"--standalone", "--shards=4", "--shard-lease-seconds=10"} <= set(container["args"])
    assert not [arg for arg in container["args"] if arg.startswith("--peering")]
    assert not of_kind(objects, "ClusterKopfPeering")
    namespace_env = next(env for env in container["env"] if env["name"] == "POD_NAMESPACE")
    assert namespace_env["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    role = one(objects, "Role", "atomesh-shards")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert (
        "coordination.k8s.io",
        "leases",
        frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    ) in set(rules(role))
    assert "--shards=4" not in operator_container(render({}))["args"]


def test_operator_args_are_accepted_by_the_real_cli() -> None:
    """The chart passes only flags `atomesh operator` defines."""
    from atomesh.commands import operator as command

    for name, values in SCENARIOS.items():
        parser = argparse.ArgumentParser(prog="atomesh operator", exit_on_error=False)
        command.add_arguments(parser)
        args = operator_container(render(values))["args"]
        assert args[0] == "operator"
        _, unknown = parser.parse_known_args(args[1:])
        assert not unknown, f"{name}: atomesh operator does not know {unknown}"


# --- RBAC ---------------------------------------------------------------------------------------

# (apiGroup, resource) -> verbs: exactly what the operator needs, nothing more.
EXPECTED_RULES = {
    ("atomesh.io", "agents"): {"get", "list", "watch", "patch", "update"},
    ("atomesh.io", "meshes"): {"get", "list", "watch", "patch", "update"},
    ("atomesh.io", "contexts"): {"get", "list", "watch", "patch", "update"},
    ("atomesh.io", "budgets"): {"get", "list", "watch", "patch", "update"},
    ("atomesh.io", "agentruns"): {"get", "list", "watch", "create", "patch", "update", "delete"},
    ("atomesh.io", "agents/status"): {"get", "patch", "update"},
    ("atomesh.io", "meshes/status"): {"get", "patch", "update"},
    ("atomesh.io", "budgets/status"): {"get", "patch", "update"},
    ("atomesh.io", "agentruns/status"): {"get", "patch", "update"},
    ("atomesh.io", "contexts/status"): {"get", "patch", "update"},
    ("atomesh.io", "agents/finalizers"): {"update"},
    ("atomesh.io", "meshes/finalizers"): {"update"},
    ("atomesh.io", "agentruns/finalizers"): {"update"},
    ("", "pods"): {"get", "list", "watch", "create", "patch", "delete"},
    ("", "configmaps"): {"get", "list", "watch", "create", "patch", "delete"},
    ("", "pods/log"): {"get"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
    ("coordination.k8s.io", "leases"): {"get", "list", "watch", "create", "update", "patch"},
}
EXPECTED_DISCOVERY = {
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"},
    ("", "namespaces"): {"get", "list", "watch"},  # get: the labels a Context's Selector matches
}


def as_table(role: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    table: dict[tuple[str, str], set[str]] = {}
    for group, resource, verbs in rules(role):
        table.setdefault((group, resource), set()).update(verbs)
    return table


def test_cluster_rbac_grants_exactly_what_the_operator_needs() -> None:
    objects = render({})
    assert as_table(one(objects, "ClusterRole", RELEASE)) == EXPECTED_RULES
    assert as_table(one(objects, "ClusterRole", f"{RELEASE}-discovery")) == EXPECTED_DISCOVERY
    assert not of_kind(objects, "Role"), "the operator's credentials arrive as env: no Secret access by default"
    secrets = one(render({"rbac": {"extraSecretNames": ["a", "b"]}}), "Role", f"{RELEASE}-secrets")
    assert secrets["metadata"]["namespace"] == NAMESPACE
    assert secrets["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["a", "b"], "verbs": ["get"]}
    ]
    for role in of_kind(objects, "ClusterRole") + of_kind(objects, "Role"):
        for _, resource, verbs in rules(role):
            assert "*" not in verbs, role["metadata"]["name"]
            assert resource != "*", role["metadata"]["name"]
    binding = one(objects, "ClusterRoleBinding", RELEASE)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def test_a_gateway_master_key_gives_the_operator_its_key_and_the_agents_key_secrets() -> None:
    values = {"gateway": {"url": "http://litellm.ai:4000", "masterKeySecret": {"name": "litellm-master"}}}
    objects = render(values)
    env = env_of(operator_container(objects))
    assert env["ATOMESH_GATEWAY_MASTER_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "litellm-master", "key": "master-key"}
    }
    config = one(objects, "ConfigMap")["data"]
    assert config["ATOMESH_GATEWAY_URL"] == "http://litellm.ai:4000"
    assert set(config) <= {*OPERATOR_ENVIRONMENT.values()}
    table = as_table(one(objects, "ClusterRole", RELEASE))
    assert table.pop(("", "secrets")) == {"get", "create", "patch", "delete"}
    assert table == EXPECTED_RULES
    defaults = render({})
    assert "ATOMESH_GATEWAY_MASTER_KEY" not in env_of(operator_container(defaults))
    assert "ATOMESH_GATEWAY_URL" not in one(defaults, "ConfigMap")["data"]


def test_namespace_rbac_uses_a_role_per_watched_namespace() -> None:
    objects = render(SCENARIOS["namespace-rbac"])
    roles = {r["metadata"]["namespace"]: r for r in of_kind(objects, "Role") if r["metadata"]["name"] == RELEASE}
    assert set(roles) == {"team-a", "team-b"}
    for role in roles.values():
        assert as_table(role) == EXPECTED_RULES
    bindings = [b for b in of_kind(objects, "RoleBinding") if b["metadata"]["name"] == RELEASE]
    assert {b["metadata"]["namespace"] for b in bindings} == {"team-a", "team-b"}
    operator_roles = [
        c["metadata"]["name"]
        for c in of_kind(objects, "ClusterRole")
        if c["metadata"]["labels"].get("app.kubernetes.io/component") == "operator"
    ]
    assert operator_roles == [f"{RELEASE}-discovery"]  # the roles for people are not the operator's
    args = operator_container(objects)["args"]
    assert "--namespace=team-a" in args
    assert "--namespace=team-b" in args
    assert "--all-namespaces" not in args


def test_namespace_rbac_defaults_to_the_release_namespace() -> None:
    objects = render({"rbac": {"scope": "namespace"}})
    (role,) = [r for r in of_kind(objects, "Role") if r["metadata"]["name"] == RELEASE]
    assert role["metadata"]["namespace"] == NAMESPACE
    assert f"--namespace={NAMESPACE}" in operator_container(objects)["args"]


def test_runner_service_account_mounts_no_token() -> None:
    runner = one(render({}), "ServiceAccount", f"{RELEASE}-runner")
    assert runner["automountServiceAccountToken"] is False


# --- optional pieces ----------------------------------------------------------------------------


def test_optional_pieces_are_off_by_default() -> None:
    kinds = {o["kind"] for o in render({})}
    assert kinds == {"ConfigMap", "Deployment", "Service", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"}


def test_everything_scenario_wires_github_app_webhook_ingress_monitoring_and_network_policy() -> None:
    objects = render(SCENARIOS["everything"])
    container = operator_container(objects)
    env = env_of(container)
    assert container["image"] == "ghcr.io/atomesh/atomesh@sha256:" + "a" * 64
    config = one(objects, "ConfigMap")["data"]
    assert config["ATOMESH_RUNNER_IMAGE"] == "registry.example.com/atomesh-runner:0.1.0-git"
    assert config["ATOMESH_FORGE_SECRET"] == "runner-token"
    assert config["ATOMESH_REVIEW_POLL_INTERVAL"] == "15"
    app_keys = {
        constants.ENV_FORGE_APP_ID: "appId",
        constants.ENV_FORGE_APP_INSTALLATION_ID: "installationId",
        constants.ENV_FORGE_APP_PRIVATE_KEY: "privateKey",
    }
    for name, key in app_keys.items():
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "github-app", "key": key}
    assert constants.ENV_FORGE_TOKEN not in env
    assert env["ATOMESH_WEBHOOK_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "github-webhook", "key": "secret"}
    assert env["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "debug"}
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.monitoring:4318"
    assert env["OTEL_EXPORTER_OTLP_HEADERS"]["valueFrom"]["secretKeyRef"] == {"name": "otlp-auth", "key": "headers"}
    assert one(objects, "Role", f"{RELEASE}-secrets")["rules"][0]["resourceNames"] == ["extra"]

    ingress = one(objects, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    assert [p["path"] for p in rule["http"]["paths"]] == ["/webhooks/github", "/webhooks/agents/"]
    assert ingress["spec"]["tls"] == [{"hosts": ["atomesh.example.com"], "secretName": "tls"}]

    monitor = one(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"

    policies = of_kind(objects, "NetworkPolicy")
    assert {p["metadata"]["namespace"] for p in policies} == {"agents", "team-a"}
    policy = policies[0]["spec"]
    assert policy["podSelector"]["matchLabels"]["atomesh.io/component"] == "runner"
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in policy, "runner pods accept no connections"
    dns, model, forge, declared = policy["egress"]
    assert declared == {"to": [{"ipBlock": {"cidr": "10.9.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 3128}]}
    assert {p["port"] for p in dns["ports"]} == {53}
    assert model["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "llm-gateway"}
    assert model["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert [peer["ipBlock"]["cidr"] for peer in forge["to"]] == ["140.82.112.0/20", "192.30.252.0/22"]
    assert forge["ports"] == [{"protocol": "TCP", "port": 443}]


def test_notes_tell_the_user_what_to_create_and_check() -> None:
    text = notes({})
    assert "create secret generic atomesh-forge" in text
    assert "rollout status deployment/atomesh" in text
    app = notes(APP)
    assert "--from-file=privateKey=" in app
