"""The pieces behind the surfaces: diffs, outlines, risk rules, title, labels and verdicts."""

from __future__ import annotations

import dataclasses

import pytest
from review_cases import PROVENANCE, code_case, config_case, data_case, doc_case

from atomesh.review import ChangedFile, CheckOutcome, ReviewInput, Validation, build_surface
from atomesh.review.config import diff, format_path, parse
from atomesh.review.data import diff_tables, key_column, parse_table
from atomesh.review.doc import compare, split_sections
from atomesh.review.risk import file_risks, path_risks
from atomesh.review.truncation import Section, fit


def _input(artifact: str, *files: ChangedFile, **fields: object) -> ReviewInput:
    return ReviewInput(
        artifact_type=artifact,  # type: ignore[arg-type]
        purpose="Test purpose.",
        files=files,
        provenance=PROVENANCE,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("path", "reasons"),
    [
        (".github/workflows/release.yml", ("CI workflow",)),
        ("web/package-lock.json", ("lockfile",)),
        ("poetry.lock", ("lockfile",)),
        ("Dockerfile", ("infrastructure",)),
        ("infra/modules/vpc/main.tf", ("infrastructure",)),
        ("charts/app/templates/deploy.yaml", ("infrastructure",)),
        (".env.production", ("looks like a secret",)),
        ("certs/server.pem", ("looks like a secret",)),
        ("home/.ssh/id_rsa", ("looks like a secret",)),
        ("aws/credentials", ("looks like a secret",)),
        ("src/environment.py", ()),
        ("docs/infrastructure.md", ()),
    ],
)
def test_risky_paths(path: str, reasons: tuple[str, ...]) -> None:
    assert path_risks(path) == reasons


def test_secret_content_is_flagged_and_never_republished() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
    token = "ghp_" + "a1B2c3D4" * 5
    changed = ChangedFile("notes.md", "added", 3, 0, after=f"# Notes\n\n{key}\n\ntoken {token}\n")
    assert file_risks(changed) == ("private key in content", "token in content")
    surface = build_surface(_input("doc", changed))
    assert "MIIEowIBAAKCAQEA" not in surface.body
    assert token not in surface.body
    assert "[redacted private key]" in surface.body


def test_title_is_bounded_and_falls_back_to_the_purpose() -> None:
    long = _input("code", summary="\n\n" + "word " * 40)
    assert len(build_surface(long).title) == 72
    assert build_surface(long).title.endswith("…")
    assert build_surface(_input("code")).title == "[atomesh] fixer: Test purpose."


def test_labels_are_sorted_and_deduplicated() -> None:
    surface = build_surface(_input("data", extra_labels=("zeta", "atomesh", "alpha", "zeta", " ")))
    assert surface.labels == ("agent:fixer", "alpha", "artifact:data", "atomesh", "zeta")


@pytest.mark.parametrize(
    ("inp", "conclusion", "name"),
    [
        (code_case(), "failure", "atomesh/code"),
        (dataclasses.replace(code_case(), checks=()), "neutral", "atomesh/code"),
        (dataclasses.replace(code_case(), checks=code_case().checks[:1]), "success", "atomesh/code"),
        (doc_case(), "neutral", "atomesh/doc"),
        (config_case(), "failure", "atomesh/config"),
        (
            dataclasses.replace(config_case(), files=config_case().files[:2], validations=()),
            "success",
            "atomesh/config",
        ),
        (data_case(), "success", "atomesh/data"),
        (_input("data", ChangedFile("t.csv", "added", 1, 0, after='a,b\n"x"y,1\n')), "failure", "atomesh/data"),
        (_input("doc", validations=(Validation("a.md", "markdownlint", ok=False),)), "failure", "atomesh/doc"),
    ],
)
def test_check_run_conclusion(inp: ReviewInput, conclusion: str, name: str) -> None:
    surface = build_surface(inp)
    assert (surface.check_name, surface.check_conclusion) == (name, conclusion)


def test_failed_check_output_tail_is_shown_open() -> None:
    check = CheckOutcome("pytest", passed=False, exit_code=2, output_tail="E   AssertionError: boom\n")
    body = build_surface(_input("code", checks=(check,))).body
    assert "<details open><summary>pytest: failed (exit 2)</summary>" in body
    assert "E   AssertionError: boom" in body


def test_check_output_with_backticks_keeps_its_fence() -> None:
    check = CheckOutcome("c", passed=False, exit_code=1, output_tail="```\nnot the end\n```\n")
    body = build_surface(_input("code", checks=(check,))).body
    assert "````text\n```\nnot the end\n```\n````" in body


def test_config_diff_by_key_with_named_lists_and_quoted_keys() -> None:
    before = parse("a.yaml", "spec:\n  env:\n    - {name: A, value: '1'}\n    - {name: B, value: '2'}\n")
    after = parse("a.yaml", "spec:\n  env:\n    - {name: B, value: '3'}\n  labels: {'app.io/x': y}\n")
    assert [c.path for c in diff(after, parse("a.yaml", "spec: {labels: {'app.io/x': z}}"))][-1] == (
        'spec.labels["app.io/x"]'
    )
    changes = [(c.change, c.path, c.before, c.after) for c in diff(before, after)]
    assert changes == [
        ("removed", "spec.env[name=A]", {"name": "A", "value": "1"}, None),
        ("changed", "spec.env[name=B].value", "2", "3"),
        ("added", "spec.labels", None, {"app.io/x": "y"}),
    ]


def test_config_multi_document_yaml_is_keyed_by_kind_and_name() -> None:
    documents = parse("m.yaml", "kind: A\nmetadata: {name: x}\n---\nkind: B\nmetadata: {name: y, namespace: n}\n")
    assert sorted(documents) == ["A/x", "B/n/y"]


def test_config_type_change_is_a_change() -> None:
    changes = diff(parse("a.json", '{"a": 1}'), parse("a.json", '{"a": true}'))
    assert [(c.change, c.path) for c in changes] == [("changed", "a")]


def test_config_file_that_stops_parsing_fails_the_check() -> None:
    broken = ChangedFile("app.json", "modified", 1, 1, before='{"a": 1}', after='{"a": 1,')
    surface = build_surface(_input("config", broken))
    assert surface.check_conclusion == "failure"
    assert "app.json does not parse" in surface.check_title
    assert "**Does not parse:**" in surface.body


def test_config_values_of_secret_like_files_are_hidden() -> None:
    changed = ChangedFile("credentials.json", "modified", 1, 1, before='{"pw": "old"}', after='{"pw": "hunter2"}')
    body = build_surface(_input("config", changed)).body
    assert "hunter2" not in body
    assert "hidden: the file looks like a secret" in body


def test_format_path() -> None:
    assert format_path(("spec", "containers", "name=web", "image")) == "spec.containers[name=web].image"
    assert format_path(("items", 0, "a b")) == 'items[0]["a b"]'
    assert format_path(()) == "(root)"


def test_data_key_column_prefers_id_like_columns() -> None:
    assert key_column(("name", "user_id"), ("name", "user_id")) == "user_id"
    assert key_column(("sku", "name"), ("sku", "name", "id")) == "sku"
    assert key_column(("a",), ("b",)) is None


def test_data_diff_by_key() -> None:
    before = parse_table("t.csv", "id,v\n1,a\n2,b\n3,c\n")
    after = parse_table("t.csv", "id,v,w\n1,a,x\n2,B,y\n4,d,z\n")
    result = diff_tables(before, after)
    assert result.keyed
    assert result.added == (("4", "d", "z"),)
    assert result.removed == (("3", "c"),)
    assert result.changed == (("2", {"v": ("b", "B")}),)
    assert result.columns_added == ("w",)


def test_data_duplicate_keys_fall_back_to_whole_rows() -> None:
    before = parse_table("t.tsv", "k\tv\n1\ta\n1\tb\n")
    after = parse_table("t.tsv", "k\tv\n1\ta\n1\tc\n1\ta\n")
    result = diff_tables(before, after)
    assert not result.keyed
    assert result.added == (("1", "a"), ("1", "c"))
    assert result.removed == (("1", "b"),)


def test_data_sample_is_bounded() -> None:
    rows = "".join(f"{index},{'v' * 100}\n" for index in range(1_000))
    changed = ChangedFile("big.csv", "added", 1_001, 0, after="id,value\n" + rows)
    body = build_surface(_input("data", changed)).body
    assert "_… 990 more rows._" in body
    assert "v" * 100 not in body


def test_doc_sections_ignore_headings_in_code_and_number_repeats() -> None:
    text = "intro\n# A\n```\n# not a heading\n```\n## Ex\none\n## Ex\ntwo\n# B\n"
    keys = [section.key for section in split_sections(text)]
    assert keys == [("(top of file)",), ("A",), ("A", "Ex"), ("A", "Ex (2)"), ("B",)]


def test_doc_compare_marks_added_changed_removed() -> None:
    changes = compare("# A\nx\n# B\ny\n", "# A\nx2\n# C\nz\n")
    assert [(change.change, change.section.title) for change in changes] == [
        ("changed", "A"),
        ("added", "C"),
        ("removed", "B"),
    ]


def test_fit_keeps_small_sections_whole_and_notes_what_it_dropped() -> None:
    small = Section(lead="### Small", items=("a", "b"))
    big = Section(lead="### Big", items=tuple(f"row {index}" for index in range(1_000)), unit="file")
    shown = fit([small, big], 500)
    assert shown[0] == small.render()
    assert sum(len(text) for text in shown) + 2 <= 500
    assert "more files not shown (body size limit)" in shown[1]
