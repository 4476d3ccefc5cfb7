"""Symbolic links and file modes on the verification surface: what each change is called, that every
artifact type shows them, and that a link's target cannot smuggle a secret or markup into the body."""

from __future__ import annotations

import dataclasses

import pytest
from review_cases import code_case, config_case, data_case, doc_case

from atomesh.review import ChangedFile, ReviewInput, build_surface
from atomesh.review.filemodes import mode_risks, mode_section


@pytest.mark.parametrize(
    ("changed", "risks"),
    [
        (ChangedFile("a", "added", mode="120000", link_target="b/c.md"), ("symbolic link to `b/c.md`",)),
        (
            ChangedFile("a", "modified", mode="120000", previous_mode="100644", link_target="x"),
            ("replaces a file with a symbolic link to `x`",),
        ),
        (
            ChangedFile("a", "modified", mode="120000", previous_mode="120000", link_target="y"),
            ("symbolic link to `y`",),
        ),
        (
            ChangedFile("a", "modified", mode="100644", previous_mode="120000"),
            ("replaces a symbolic link with a file",),
        ),
        (ChangedFile("run.sh", "added", mode="100755"), ("added as an executable",)),
        (ChangedFile("run.sh", "modified", mode="100755", previous_mode="100644"), ("executable bit set",)),
        (ChangedFile("run.sh", "modified", mode="100644", previous_mode="100755"), ("executable bit cleared",)),
        (ChangedFile("vendor/lib", "added", mode="160000"), ("adds a submodule (its code is not in this diff)",)),
        (ChangedFile("run.sh", "modified", mode="100755", previous_mode="100755"), ()),
        (ChangedFile("a.md", "added", mode="100644"), ()),
        (ChangedFile("a", "deleted", mode="", previous_mode="120000"), ()),
        (ChangedFile("a.md", "modified"), ()),  # modes unknown: nothing claimed
    ],
)
def test_what_each_change_is_called(changed: ChangedFile, risks: tuple[str, ...]) -> None:
    assert mode_risks(changed) == risks


def test_a_link_target_is_redacted_bounded_and_kept_inline() -> None:
    token = "ghp_" + "A" * 36
    changed = ChangedFile("a", "added", mode="120000", link_target=f"/tmp/{token}\n`|" + "x" * 500)
    [risk] = mode_risks(changed)
    assert token not in risk
    assert "\n" not in risk
    assert len(risk) < 300


@pytest.mark.parametrize("case", [code_case, doc_case, config_case, data_case])
def test_every_artifact_type_shows_links_and_modes_in_body_and_check_summary(case: object) -> None:
    assert callable(case)
    inp: ReviewInput = case()
    link = ChangedFile("docs/latest", "added", 1, 0, mode="120000", link_target="../README.md")
    surface = build_surface(dataclasses.replace(inp, files=(*inp.files, link)))
    for text in (surface.body, surface.check_summary):
        assert "### Links and file modes" in text
        assert "- `docs/latest`: symbolic link to `../README.md`" in text
    assert surface.body.index("### Links and file modes") < surface.body.index("<!-- atomesh:provenance")


def test_no_section_without_links_or_mode_changes() -> None:
    assert mode_section(doc_case().files) is None
    assert "Links and file modes" not in build_surface(doc_case()).body
