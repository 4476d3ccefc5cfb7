"""Golden tests of `atomesh status`: its tables and its JSON, exactly as committed under tests/golden/status/.

Regenerate after an intended change with `ATOMESH_UPDATE_GOLDEN=1 pytest tests/unit/commands/test_status_golden.py`,
then read the diff of the golden files as a reviewer would.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console
from tests.unit.core.supervision_builders import NOW, scenario

from atomesh.commands.status import failures, render
from atomesh.core.supervision import Thresholds
from atomesh.core.supervision_overview import Overview, overview

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "status"


def view() -> Overview:
    agents, meshes, runs = scenario()
    return overview(agents, meshes, runs, NOW, Thresholds())


def rendered(output: str) -> str:
    buffer = io.StringIO()
    render(view(), output, Console(file=buffer, width=200, color_system=None, force_terminal=False))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("output", "file"), [("table", "tables.txt"), ("json", "overview.json"), ("yaml", "overview.yaml")]
)
def test_status_output_matches_golden_file(output: str, file: str) -> None:
    text = rendered(output)
    golden = GOLDEN_DIR / file
    if os.environ.get("ATOMESH_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run with ATOMESH_UPDATE_GOLDEN=1 to create it"
    assert text == golden.read_text(encoding="utf-8")


def test_json_is_the_overview_document() -> None:
    document = json.loads(rendered("json"))
    assert [item["run"] for item in document["reviewQueue"]] == ["fixer-3", "docs-1"]
    assert [item["problem"] for item in document["attention"]] == [
        "Failed", "Stuck", "AgentNotReady", "MeshOverBudget",
    ]  # fmt: skip


def test_fail_on_attention_names_what_it_found() -> None:
    assert failures(view(), ["attention"]) == ["4 item(s) need attention"]
    assert failures(view(), []) == []
