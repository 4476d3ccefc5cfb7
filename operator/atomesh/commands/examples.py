"""The example manifests `atomesh dev --demo` runs (from `--agents DIR`) and their demo inputs.

The demo inputs live here, in `DEMO_INPUTS`, rather than in the example manifests: they fit the
sample repository `demo/sample-app` and the scripted model, which only the development stack
has, while the manifests stay exactly what a user applies to a real repository. An Agent that is
not in the table (one a user wrote) runs with an empty input when its schema accepts one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DEMO_AGENT = "issue-triage"
# Per example agent: a run input that fits demo/sample-app and the scripted model's turns.
DEMO_INPUTS: dict[str, dict[str, Any]] = {
    "issue-triage": {"issue": 1, "summary": 'greet("") returns "Hello, !" instead of rejecting the empty name.'},
    "bug-fix": {"issue": 1},
    "release-notes": {"pullRequest": "https://github.com/demo/sample-app/pull/1", "issue": 1},
    "dependency-bump": {"package": "PyYAML", "version": "6.0.2"},
    "manifest-tuner": {"focus": "sample-app"},
    "csv-cleaner": {"file": "data/customers.csv"},
    "landing-copy": {"brief": "Say what it does and for whom, plainly."},
    "pricing-sheet": {"plan": "Starter", "price": 12},
}
DEMO_INPUT = DEMO_INPUTS[DEMO_AGENT]


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every object in the YAML files of `directory` (the example agents and meshes)."""
    found: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(doc, dict)]
    return found


def mesh_manifests(directory: Path, name: str, harness: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Mesh `name` of `directory` and the Agents its nodes run (with the chosen harness)."""
    objects = load_manifests(directory)
    mesh = next((o for o in objects if o.get("kind") == "Mesh" and o.get("metadata", {}).get("name") == name), None)
    if mesh is None:
        meshes = sorted(o["metadata"]["name"] for o in objects if o.get("kind") == "Mesh")
        raise FileNotFoundError(f"--mesh {name}: no Mesh of that name in {directory} (there: {', '.join(meshes)})")
    wanted = {node["agentRef"]["name"] for node in mesh["spec"]["agents"]}
    agents = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Agent" and o["metadata"]["name"] in wanted}
    missing = sorted(wanted - set(agents))
    if missing:
        raise FileNotFoundError(f"--mesh {name}: the Agents {', '.join(missing)} are not in {directory}")
    chosen = [copy.deepcopy(agents[agent]) for agent in sorted(wanted)]
    for manifest in chosen:
        manifest["spec"].setdefault("harness", {})["kind"] = harness
    return mesh, chosen


def find_agent(directory: Path, name: str) -> dict[str, Any]:
    """The Agent `name` among the manifests of `directory` (FileNotFoundError naming the ones there)."""
    if not directory.is_dir():
        raise FileNotFoundError(
            f"--agents {directory}: no such directory; run from the atomesh repository or pass --agents DIR"
        )
    agents = [o for o in load_manifests(directory) if o.get("kind") == "Agent"]
    found = next((o for o in agents if (o.get("metadata") or {}).get("name") == name), None)
    if found is None:
        there = ", ".join(sorted(str((o.get("metadata") or {}).get("name")) for o in agents)) or "none"
        raise FileNotFoundError(f"--agent {name}: no Agent of that name in {directory} (Agents there: {there})")
    return found


def demo_input(manifest: dict[str, Any]) -> dict[str, Any]:
    """The agent's demo input, checked against its input schema (ValueError when it does not fit)."""
    name = str(manifest["metadata"]["name"])
    value = DEMO_INPUTS.get(name, {})
    schema = ((manifest.get("spec") or {}).get("input") or {}).get("schema") or {}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(value))
    if error is not None:
        where = "its demo input" if name in DEMO_INPUTS else "an empty input (the demo has none for it)"
        raise ValueError(f"--agent {name}: the Agent's input schema rejects {where}: {error.message}")
    return value


def describe_input(value: dict[str, Any]) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def demo_agent(manifest: dict[str, Any], harness: str) -> dict[str, Any]:
    """The example Agent as it is in agents/, with the chosen harness."""
    manifest = copy.deepcopy(manifest)
    manifest["spec"].setdefault("harness", {})["kind"] = harness
    return manifest
