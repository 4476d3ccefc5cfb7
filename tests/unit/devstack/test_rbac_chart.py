"""The development stack runs the operator under the chart's own ServiceAccount and RBAC: the copy it
ships (atomesh/devstack/chart_rbac.yaml) must be exactly what the chart renders, so a permission
the chart lacks fails the tests that run the operator on the stack.

Regenerate after changing the chart's RBAC: `.venv/bin/python -m tests.unit.devstack.test_rbac_chart`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from atomesh.devstack.identity import CHART_RBAC, OPERATOR_NAMESPACE, RELEASE, chart_rbac

CHART = Path(__file__).resolve().parents[3] / "charts" / "atomesh"
KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
HEADER = (
    "# Generated from charts/atomesh (release atomesh, namespace atomesh-system, default values) by\n"
    "# `python -m tests.unit.devstack.test_rbac_chart`: the identity the operator has in `atomesh dev`.\n"
)


def rendered_rbac() -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render({}, name=RELEASE, namespace=OPERATOR_NAMESPACE, is_install=True)
    return [
        doc
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc and doc.get("kind") in KINDS
    ]


def test_the_stack_ships_the_charts_rbac() -> None:
    assert chart_rbac() == rendered_rbac(), (
        "atomesh/devstack/chart_rbac.yaml differs from the chart's RBAC: regenerate it with "
        "`.venv/bin/python -m tests.unit.devstack.test_rbac_chart`"
    )


@pytest.mark.parametrize("role", ["atomesh-view", "atomesh-edit", "atomesh-admin"])
def test_the_roles_for_people_aggregate_into_kubernetes_defaults(role: str) -> None:
    found = {o["metadata"]["name"]: o for o in rendered_rbac()}[role]
    label = "rbac.authorization.k8s.io/aggregate-to-" + role.removeprefix("atomesh-")
    assert found["metadata"]["labels"][label] == "true"


def _roles_for_people(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=OPERATOR_NAMESPACE, is_install=True)
    return {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all(manifests.get("atomesh/templates/roles.yaml", ""))
        if doc
    }


def test_the_roles_for_people_can_be_left_out_or_kept_apart() -> None:
    assert _roles_for_people({"rbac": {"userRoles": {"create": False}}}) == {}
    apart = _roles_for_people({"rbac": {"userRoles": {"aggregateToDefaults": False}}})
    assert sorted(apart) == ["atomesh-admin", "atomesh-edit", "atomesh-view"]
    for role in apart.values():
        assert not any(label.startswith("rbac.authorization.k8s.io/") for label in role["metadata"]["labels"])
    edit = {(tuple(r["resources"]), tuple(r["verbs"])) for r in apart["atomesh-edit"]["rules"]}
    assert (("agents", "meshes", "agentruns", "contexts"), ("create", "update", "patch", "delete")) in edit


if __name__ == "__main__":
    CHART_RBAC.write_text(HEADER + yaml.safe_dump_all(rendered_rbac(), sort_keys=False), encoding="utf-8")
    print(f"wrote {CHART_RBAC}")
