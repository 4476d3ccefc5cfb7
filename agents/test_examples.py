"""Every example in agents/ passes `atomesh lint`, loads into the models and is applyable as-is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from atomesh import cli
from atomesh.api import Agent, AgentRun, Mesh
from atomesh.api.context import Context
from atomesh.core.graph import topological_order, validate_graph
from atomesh.core.validation import validate_agent_spec
from atomesh.lint import lint_paths

HERE = Path(__file__).resolve().parent
MANIFESTS = sorted(HERE.glob("*.yaml"))
MODELS = {"Agent": Agent, "Mesh": Mesh, "AgentRun": AgentRun, "Context": Context}


def objects() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def test_lint_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert lint_paths([HERE]) == []
    assert cli.main(["lint", str(HERE)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_example_loads_into_the_models(path: Path) -> None:
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if not doc["apiVersion"].startswith("atomesh.io/"):
            continue  # a Context's ConfigMap
        obj = MODELS[doc["kind"]].model_validate(doc, strict=True)
        if isinstance(obj, Agent):
            assert validate_agent_spec(obj.spec) == []
            assert obj.spec.workspace.repo == "demo/sample-app"
        if isinstance(obj, Mesh):
            assert validate_graph(obj.spec) == []


def test_one_agent_per_artifact_type_and_no_runs() -> None:
    agents = [Agent.model_validate(doc) for doc in objects() if doc["kind"] == "Agent"]
    assert {a.spec.output.artifact for a in agents} == {"code", "doc", "config", "data", "visual", "spreadsheet"}
    # Applying agents/ must not start work: runs are created by people, schedules and meshes.
    assert all(doc["kind"] != "AgentRun" for doc in objects())


def test_mesh_wires_three_example_agents() -> None:
    (mesh,) = [Mesh.model_validate(doc) for doc in objects() if doc["kind"] == "Mesh"]
    names = {doc["metadata"]["name"] for doc in objects() if doc["kind"] == "Agent"}
    assert mesh.metadata.name == "triage-fix-release"
    assert topological_order(mesh.spec) == ["triage", "fix", "release-notes"]
    assert {node.agent_ref.name for node in mesh.spec.agents} <= names
    assert all(edge.when == "accepted" for edge in mesh.spec.edges)


def test_scheduled_agents_accept_an_empty_input() -> None:
    """A scheduled run has no input, so its agent's schema must accept {}."""
    for doc in objects():
        if doc["kind"] == "Agent":
            agent = Agent.model_validate(doc)
            if agent.spec.triggers.schedule:
                assert jsonschema.Draft202012Validator(agent.spec.input.json_schema).is_valid({}), agent.metadata.name
