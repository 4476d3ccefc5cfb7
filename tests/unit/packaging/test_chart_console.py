"""The console in the cluster (`console.enabled`): its own Deployment, Service and ServiceAccount, read-only
by default, bound to the view rules only; rendered by Helm's real engine and validated against the
Kubernetes schemas of each supported version."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from tests.unit.packaging.test_chart import CHART, KUBE_VERSIONS, NAMESPACE, notes, of_kind, one, render, rules

CONSOLE = "atomesh-console"
ENABLED: dict[str, Any] = {"console": {"enabled": True}}
WRITES = {"create", "update", "patch", "delete", "deletecollection"}


def console_objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in render(values) if o["metadata"]["labels"].get("app.kubernetes.io/component") == "console"]


def container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = one(objects, "Deployment", CONSOLE)["spec"]["template"]["spec"]["containers"]
    return found


def test_off_by_default() -> None:
    assert console_objects({}) == []


def test_read_only_by_default_with_view_rules_only() -> None:
    objects = console_objects(ENABLED)
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == [
        ("ClusterRole", CONSOLE),
        ("ClusterRoleBinding", CONSOLE),
        ("Deployment", CONSOLE),
        ("Service", CONSOLE),
        ("ServiceAccount", CONSOLE),
    ]
    args = container(objects)["args"]
    assert args[:3] == ["console", "--address=0.0.0.0", "--port=8470"]
    assert "--read-only" in args
    pod = one(objects, "Deployment", CONSOLE)["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == CONSOLE
    granted = list(rules(one(objects, "ClusterRole", CONSOLE)))
    assert all(not verbs & WRITES for _, _, verbs in granted), granted
    assert ("atomesh.io", "agentruns", frozenset({"get", "list", "watch"})) in granted
    assert ("", "events", frozenset({"get", "list", "watch"})) in granted
    binding = one(objects, "ClusterRoleBinding", CONSOLE)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": CONSOLE, "namespace": NAMESPACE}]
    service = one(objects, "Service", CONSOLE)
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "console"
    assert service["spec"]["ports"][0]["targetPort"] == "http"


def test_acting_console_gets_edit_rules_and_no_read_only_flag() -> None:
    objects = console_objects({"console": {"enabled": True, "readOnly": False}})
    assert "--read-only" not in container(objects)["args"]
    granted = list(rules(one(objects, "ClusterRole", CONSOLE)))
    assert ("atomesh.io", "agentruns", frozenset({"create", "update", "patch", "delete"})) in granted


def test_namespaces_bind_per_namespace_and_narrow_the_console() -> None:
    objects = console_objects({"console": {"enabled": True, "namespaces": ["team-a", "team-b"]}})
    assert not of_kind(objects, "ClusterRoleBinding")
    bindings = of_kind(objects, "RoleBinding")
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    assert {b["roleRef"]["name"] for b in bindings} == {CONSOLE}
    args = container(objects)["args"]
    assert [a for a in args if a.startswith("--namespace=")] == ["--namespace=team-a", "--namespace=team-b"]


@pytest.mark.parametrize(
    "values", [ENABLED, {"console": {"enabled": True, "readOnly": False, "namespaces": ["team-a"]}}]
)
def test_lint_is_clean_and_objects_are_valid_for_every_supported_version(values: dict[str, Any]) -> None:
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version="v1.30.0")
    assert not [m for m in report["messages"] if m["severity"] >= 2]
    assert not report["errors"]
    for obj in console_objects(values):
        for version in KUBE_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"console": {"enabled": "yes"}}, "/console/enabled"),
        ({"console": {"namespaces": ["Team_A"]}}, "/console/namespaces/0"),
        ({"console": {"readonly": True}}, "readonly"),
    ],
)
def test_values_schema_rejects_a_bad_console_value_and_names_it(values: dict[str, Any], where: str) -> None:
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError) as error:
        chart.validate_schema(chart.merge_values(values))
    assert where in str(error.value)


def test_the_install_docs_console_values_are_accepted() -> None:
    text = (CHART.parents[1] / "docs" / "install.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "\nconsole:" in b]
    values = yaml.safe_load(block)
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(values))
    assert console_objects(values)


def test_notes_tell_where_the_console_is_only_when_enabled() -> None:
    assert "console" not in notes({})
    told = notes(ENABLED)
    assert f"port-forward service/{CONSOLE} 8470:80" in told
    assert "(read-only)" in told
