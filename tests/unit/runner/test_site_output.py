"""What publish takes from the `build` step: only regular files, within bounds, and results that parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomesh.runner.site_build import build_environment
from atomesh.runner.site_output import SiteBuildResult, SiteTooLarge, copy_site, read_result, write_result


def test_a_built_site_is_copied_without_its_symbolic_links(tmp_path: Path) -> None:
    site, secret = tmp_path / "site", tmp_path / "secret.txt"
    secret.write_text("token")
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("<h1>hi</h1>")
    (site / "assets" / "app.css").write_text("h1{}")
    (site / "leak.txt").symlink_to(secret)
    (site / "outside").symlink_to(tmp_path, target_is_directory=True)
    copied = copy_site(site, tmp_path / "copy")
    found = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*"))
    assert found == ["assets", "assets/app.css", "index.html"]
    assert copied == len("<h1>hi</h1>") + len("h1{}")


def test_a_site_over_its_bounds_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    for index in range(3):
        (tmp_path / "site" / f"{index}.html").write_text("x" * 100)
    with pytest.raises(SiteTooLarge, match=r"build\.outputDir"):
        copy_site(tmp_path / "site", tmp_path / "a", max_bytes=250)
    with pytest.raises(SiteTooLarge):
        copy_site(tmp_path / "site", tmp_path / "b", max_files=2)


def test_results_round_trip_and_anything_else_reads_as_none(tmp_path: Path) -> None:
    result = SiteBuildResult(side="head", passed=False, exit_code=2, output_tail="npm ERR!")
    write_result(tmp_path, result)
    assert read_result(tmp_path, "head") == result
    assert read_result(tmp_path, "base") is None
    (tmp_path / "site" / "base.json").write_text("{not json")
    assert read_result(tmp_path, "base") is None
    (tmp_path / "site" / "base.json").write_text(result.model_dump_json(by_alias=True))  # the wrong side
    assert read_result(tmp_path, "base") is None


def test_the_build_command_gets_no_atomesh_variable() -> None:
    env = build_environment({"PATH": "/bin", "ATOMESH_FORGE_TOKEN": "t", "ATOMESH_MODEL_API_KEY": "k", "HOME": "/h"})
    assert env == {"PATH": "/bin", "HOME": "/h", "CI": "true"}


def test_a_site_that_is_a_link_is_refused_whole(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "index.html").write_text("<h1>not built here</h1>")
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "head").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "linked-state").symlink_to(tmp_path / "state", target_is_directory=True)
    for source in (tmp_path / "state" / "head", tmp_path / "linked-state" / "base", tmp_path / "missing"):
        with pytest.raises(SiteTooLarge, match="not a folder of the build's own"):
            copy_site(source, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
