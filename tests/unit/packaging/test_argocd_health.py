"""The Argo CD health scripts, driven by the health_test.yaml beside each, under Lua 5.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from argocd_health import ARGOCD_CM, GROUP, HEALTH_STATUSES, KINDS, kind_dir, render_argocd_cm, run_health, sandbox


def _cases() -> list[Any]:
    cases = []
    for kind in KINDS:
        spec = yaml.safe_load((kind_dir(kind) / "health_test.yaml").read_text())
        for case in spec["tests"]:
            cases.append(pytest.param(kind, case, id=f"{kind}-{Path(case['inputPath']).stem}"))
    return cases


@pytest.mark.parametrize(("kind", "case"), _cases())
def test_health_script_matches_expected_status(kind: str, case: dict[str, Any]) -> None:
    directory = kind_dir(kind)
    obj = yaml.safe_load((directory / case["inputPath"]).read_text())
    assert obj["kind"] == kind, f"{case['inputPath']} is a {obj['kind']}, not a {kind}"

    health = run_health((directory / "health.lua").read_text(), obj)

    assert health == case["healthStatus"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_tested_for_each_status_it_can_report(kind: str) -> None:
    spec = yaml.safe_load((kind_dir(kind) / "health_test.yaml").read_text())
    statuses = {case["healthStatus"]["status"] for case in spec["tests"]}
    assert statuses <= HEALTH_STATUSES
    assert {"Healthy", "Progressing", "Degraded", "Suspended"} <= statuses
    # Every testdata file is used by a test, so none rots unchecked.
    used = {(kind_dir(kind) / case["inputPath"]).resolve() for case in spec["tests"]}
    assert set((kind_dir(kind) / "testdata").glob("*.yaml")) == {path.resolve() for path in used}


def test_sandbox_offers_only_what_argocd_offers() -> None:
    lua = sandbox()
    assert lua.execute("return _VERSION") == "Lua 5.1"
    for missing in ("os", "io", "require", "debug", "package", "python"):
        assert lua.execute(f"return {missing}") is None, missing
    assert lua.execute("return string.format('%d/%d', math.floor(2.5), table.getn({1, 2}))") == "2/2"


def test_a_script_reaching_for_os_fails_like_in_argocd() -> None:
    with pytest.raises(Exception, match="os"):
        run_health("return {status = os.getenv('HOME')}", {"kind": "Agent"})


def test_argocd_cm_snippet_matches_the_lua_sources() -> None:
    assert ARGOCD_CM.read_text() == render_argocd_cm(), (
        "docs/argocd/argocd-cm.yaml is stale: run python tests/unit/packaging/argocd_health.py --write"
    )
    data = yaml.safe_load(ARGOCD_CM.read_text())["data"]
    for kind in KINDS:
        assert data[f"resource.customizations.health.{GROUP}_{kind}"] == (kind_dir(kind) / "health.lua").read_text()
