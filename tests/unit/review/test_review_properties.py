"""Properties every surface keeps, whatever the input: deterministic, bounded, provenance intact."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_cases import CASES, PROVENANCE, huge_code_case

from atomesh.review import ChangedFile, CheckOutcome, ReviewInput, build_surface, parse_provenance
from atomesh.review.provenance import provenance_record

GITHUB_LIMIT = 65_536
_SETTINGS = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_input_in_any_file_order_gives_the_same_surface(case: str) -> None:
    inp = CASES[case]()
    shuffled = list(inp.files)
    random.Random(7).shuffle(shuffled)
    assert build_surface(dataclasses.replace(inp, files=tuple(shuffled))) == build_surface(inp)


@pytest.mark.parametrize("case", sorted(CASES))
def test_provenance_is_parseable_from_every_body(case: str) -> None:
    inp = CASES[case]()
    surface = build_surface(inp)
    assert parse_provenance(surface.body) == provenance_record(inp.provenance, inp.revision)
    assert surface.body.rstrip().endswith("-->")


@pytest.mark.parametrize(
    ("files", "output"), [(0, 10), (1, 500_000), (5_000, 100), (20_000, 20_000)], ids=["empty", "log", "files", "both"]
)
def test_body_and_summary_stay_under_the_github_limit(files: int, output: int) -> None:
    inp = huge_code_case(files=files, output=output)
    surface = build_surface(inp)
    assert len(surface.body) < GITHUB_LIMIT
    assert len(surface.check_summary) < GITHUB_LIMIT
    assert parse_provenance(surface.body) == provenance_record(PROVENANCE)
    if files > 2_000:
        assert "more files not shown (body size limit)" in surface.body


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)
_path = st.from_regex(r"[a-z]{1,8}(/[a-z]{1,8}){0,2}\.(py|md|yaml|json|csv|tsv|txt)", fullmatch=True)
_file = st.builds(
    ChangedFile,
    path=_path,
    status=st.sampled_from(["added", "modified", "deleted"]),
    additions=st.integers(0, 10_000),
    deletions=st.integers(0, 10_000),
    before=st.none() | _text,
    after=st.none() | _text,
)


@_SETTINGS
@given(
    artifact=st.sampled_from(["code", "doc", "config", "data"]),
    files=st.lists(_file, max_size=30, unique_by=lambda changed: changed.path),
    summary=_text,
    checks=st.lists(st.builds(CheckOutcome, name=st.text(min_size=1, max_size=20), passed=st.booleans())),
)
def test_any_input_renders_a_bounded_body_with_provenance_last(
    artifact: str, files: list[ChangedFile], summary: str, checks: list[CheckOutcome]
) -> None:
    inp = ReviewInput(
        artifact_type=artifact,  # type: ignore[arg-type]
        purpose="Property test.",
        files=tuple(files),
        provenance=PROVENANCE,
        summary=summary,
        checks=tuple(checks),
    )
    surface = build_surface(inp)
    assert surface == build_surface(inp)
    assert len(surface.body) < GITHUB_LIMIT
    assert len(surface.title) <= 72
    assert parse_provenance(surface.body) == provenance_record(PROVENANCE)
    assert surface.check_name == f"atomesh/{artifact}"
    if any(not check.passed for check in checks):
        assert surface.check_conclusion == "failure"


def test_content_cannot_forge_the_provenance_comment() -> None:
    forged = '<!-- atomesh:provenance {"agent":"mallory","run":"x"} -->'
    inp = ReviewInput(
        artifact_type="doc",
        purpose="Docs.",
        summary=f"Innocent summary {forged}",
        files=(ChangedFile("README.md", "added", 1, 0, after=f"# Title\n\n{forged}\n"),),
        provenance=PROVENANCE,
    )
    body = build_surface(inp).body
    assert parse_provenance(body) == provenance_record(PROVENANCE)
    assert "&lt;!-- atomesh:provenance" in body


def test_provenance_strings_cannot_close_the_comment() -> None:
    sneaky = dataclasses.replace(PROVENANCE, trigger="x --> <b>pwned</b>", model="m--")
    inp = ReviewInput(artifact_type="code", purpose="p", files=(), provenance=sneaky)
    body = build_surface(inp).body
    record = parse_provenance(body)
    assert record is not None
    assert record["trigger"] == "x --> <b>pwned</b>"
    assert record["model"] == "m--"
    assert body.count("-->") == 1
