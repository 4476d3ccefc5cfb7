"""Mesh edge input expressions: grammar, static checks against the graph, and rendering."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.core.meshexpr import ExpressionError, check_template, map_input, parse_reference, render_template

UPSTREAM: dict[str, Any] = {
    "run": "a-1",
    "node": "a",
    "input": {"issue": 7, "meta": {"tag": "v1"}},
    "artifact": {"files": ["x.md"], "commit": "c0"},
    "review": {"url": "https://pr/1"},
}


@pytest.mark.parametrize(
    ("body", "node", "path"),
    [
        ("upstream.run", None, ("run",)),
        ("upstream.input.meta.tag", None, ("input", "meta", "tag")),
        (" upstream.review.mergeCommit ", None, ("review", "mergeCommit")),
        ("upstreams.triage.artifact.files", "triage", ("artifact", "files")),
    ],
)
def test_valid_references(body: str, node: str | None, path: tuple[str, ...]) -> None:
    reference = parse_reference(body)
    assert (reference.node, reference.path) == (node, path)


@pytest.mark.parametrize(
    "body",
    [
        "upstream",
        "upstream.input",
        "upstream.run.x",
        "upstream.artifact.secret",
        "upstream.review.revisionRun",
        "env.HOME",
    ],
)
def test_invalid_references_explain_the_grammar(body: str) -> None:
    with pytest.raises(ExpressionError, match=r"use \$\{upstream.run\}"):
        parse_reference(body)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("plain", None),
        ("${upstreams.b.run}", None),
        ("${upstreams.z.run}", "reads node 'z', which is not upstream here (upstream: a, b)"),
        ("${upstream.run", "unterminated expression"),
    ],
)
def test_check_template(template: str, problem: str | None) -> None:
    found = check_template(template, ["a", "b"])
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_render_keeps_types_for_a_whole_expression_and_substitutes_text_otherwise() -> None:
    assert render_template("${upstream.artifact.files}", UPSTREAM) == ["x.md"]
    assert render_template("${upstream.input.issue}", UPSTREAM) == 7
    assert render_template("#${upstream.input.issue} at ${upstream.review.url}", UPSTREAM) == "#7 at https://pr/1"
    assert render_template("${upstreams.b.run}", UPSTREAM, {"b": {"run": "b-1"}}) == "b-1"


def test_map_input_reports_each_missing_key() -> None:
    values, errors = map_input(
        {"ok": "${upstream.run}", "gone": "${upstream.review.mergeCommit}", "deep": "${upstream.input.meta.nope}"},
        UPSTREAM,
    )
    assert values == {"ok": "a-1"}
    assert errors == [
        "input 'deep': ${upstream.input.meta.nope}: upstream run 'a-1' has no input.meta.nope",
        "input 'gone': ${upstream.review.mergeCommit}: upstream run 'a-1' has no review.mergeCommit",
    ]
