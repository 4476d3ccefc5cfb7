"""`atomesh status` against the Kubernetes API emulator: the real kubernetes client with a kubeconfig."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.fixtures.kube import RunningKubeAPI
from tests.integration.console.seed import ensure_namespace, seed
from tests.unit.core.supervision_builders import scenario

from atomesh.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seeded(kube_api: RunningKubeAPI) -> RunningKubeAPI:
    kube_api.apply_crds()
    ensure_namespace(kube_api, "team-a")
    agents, meshes, runs = scenario(datetime.now(UTC))
    seed(kube_api, [*agents, *meshes, *runs])
    return kube_api


def test_json_shows_the_queue_attention_and_fleet(seeded: RunningKubeAPI, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--kubeconfig", str(seeded.kubeconfig), "-o", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [item["run"] for item in document["reviewQueue"]] == ["fixer-3", "docs-1"]
    problems = {(item["problem"], item["name"], item["reason"]) for item in document["attention"]}
    assert ("Failed", "fixer-4", "HarnessCrashed") in problems
    assert ("AgentNotReady", "broken", "WorkspaceUnresolvable") in problems
    assert ("MeshOverBudget", "release", "BudgetExceeded") in problems
    fixer = next(row for row in document["fleet"] if row["agent"] == "fixer")
    assert (fixer["runs"], fixer["merged"], fixer["decided"]) == (5, 1, 2)


def test_fail_on_attention_exits_non_zero(seeded: RunningKubeAPI, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--kubeconfig", str(seeded.kubeconfig), "--fail-on", "attention"]) == 1
    captured = capsys.readouterr()
    assert "Review queue (2)" in captured.out
    assert "need attention" in captured.err


def test_a_namespace_without_atomesh_objects_shows_empty_tables(
    seeded: RunningKubeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["status", "--kubeconfig", str(seeded.kubeconfig), "-n", "default", "--fail-on", "attention", "-o", "yaml"]
    assert main(args) == 0
    assert "reviewQueue: []" in capsys.readouterr().out
