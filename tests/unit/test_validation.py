"""Semantic checks shared by lint and the operator: structured errors, never exceptions."""

from __future__ import annotations

import pytest

from atomesh.api.agent import AgentSpec
from atomesh.core.meshexpr import check_template
from atomesh.core.validation import (
    FieldError,
    check_cron,
    check_duration,
    check_input,
    check_json_schema,
    check_output_paths,
    check_timezone,
    format_path,
    validate_agent_spec,
)

LOC = ("spec", "x")


@pytest.mark.parametrize("expression", ["* * * * *", "0 6 * * 1-5", "*/15 9-17 * * MON-FRI", "@daily", "@hourly"])
def test_valid_cron(expression: str) -> None:
    assert check_cron(expression, LOC) == []


@pytest.mark.parametrize("expression", ["", "61 * * * *", "* * * *", "0 0 6 * * 1", "@reboot", "every day"])
def test_invalid_cron(expression: str) -> None:
    (error,) = check_cron(expression, LOC)
    assert error.loc == LOC
    assert "5 fields" in error.message


@pytest.mark.parametrize(("name", "valid"), [("UTC", True), ("Europe/Berlin", True), ("Mars/Base", False), ("", False)])
def test_timezone(name: str, valid: bool) -> None:
    assert (check_timezone(name, LOC) == []) is valid


@pytest.mark.parametrize(
    ("text", "valid"), [("15m", True), ("1h30m", True), ("90s", True), ("0m", False), ("1d", False)]
)
def test_duration(text: str, valid: bool) -> None:
    assert (check_duration(text, LOC) == []) is valid


def test_json_schema_errors_point_into_the_schema() -> None:
    assert check_json_schema({"type": "object", "properties": {"a": {"type": "string"}}}, LOC) == []
    (error,) = check_json_schema({"properties": {"a": {"type": "int"}}}, LOC)
    assert error.path == "spec.x.properties.a.type"
    assert "use one of: array, boolean, integer" in error.message
    (error,) = check_json_schema({"required": "a"}, LOC)
    assert error.path == "spec.x.required"


def test_input_errors_are_per_field_and_ordered() -> None:
    schema = {
        "type": "object",
        "required": ["issue"],
        "properties": {"issue": {"type": "integer"}, "t": {"type": "string"}},
    }
    errors = check_input({"t": 1}, schema, ("spec", "input"))
    assert [e.path for e in errors] == ["spec.input", "spec.input.t"]
    assert "'issue' is a required property" in errors[0].message
    assert check_input({"issue": 4}, schema, ("spec", "input")) == []


def test_input_against_an_invalid_schema_is_an_error_not_a_crash() -> None:
    (error,) = check_input({}, {"type": "nope"}, ("spec", "input"))
    assert "not a valid JSON Schema" in error.message


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("literal", True),
        ("${upstream.input.issue}", True),
        ("PR ${upstream.review.url} at ${upstream.review.mergeCommit}", True),
        ("${upstream.artifact.files}", True),
        ("${upstream.run} on ${upstream.node}", True),
        ("${upstreams.triage.review.url}", True),
        ("${upstreams.release.review.url}", False),
        ("${upstream.pr.url}", False),
        ("${downstream.input.x}", False),
        ("${upstream.input}", False),
        ("${upstream.input.issue", False),
    ],
)
def test_edge_expressions(value: str, valid: bool) -> None:
    assert (check_template(value, ["triage"]) is None) is valid


def test_output_paths_stay_in_the_repository() -> None:
    errors = check_output_paths(["src/**", "/etc/passwd", "docs/../../x", "a..b/c"], ("spec", "output", "paths"))
    assert [e.path for e in errors] == ["spec.output.paths[1]", "spec.output.paths[2]"]


def test_validate_agent_spec_collects_every_problem() -> None:
    spec = AgentSpec.model_validate(
        {
            "purpose": "p",
            "instructions": "i",
            "input": {"schema": {"type": "objekt"}},
            "output": {"artifact": "code", "paths": ["/abs"]},
            "workspace": {"repo": "a/b"},
            "harness": {"model": "m"},
            "review": {"checks": [{"name": "t", "run": "a"}, {"name": "t", "run": "b"}]},
            "triggers": {"schedule": "bad", "timezone": "No/Where"},
        }
    )
    assert [e.path for e in validate_agent_spec(spec)] == [
        "spec.input.schema.type",
        "spec.output.paths[0]",
        "spec.triggers.schedule",
        "spec.triggers.timezone",
        "spec.review.checks[1].name",
    ]


def test_format_path() -> None:
    assert format_path(("spec", "edges", 2, "input", "issue")) == "spec.edges[2].input.issue"
    assert FieldError((), "m").path == ""


def test_page_folders_stay_in_the_repository_and_a_build_ends_within_the_run() -> None:
    def errors(pages: dict[str, object], timeout: str = "10m") -> list[str]:
        spec = AgentSpec.model_validate(
            {
                "purpose": "p",
                "instructions": "i",
                "output": {"artifact": "visual"},
                "workspace": {"repo": "a/b"},
                "harness": {"model": "m"},
                "review": {"pages": pages},
                "limits": {"timeout": timeout},
            }
        )
        return [f"{e.path}: {e.message}" for e in validate_agent_spec(spec)]

    build = {"run": "npm run build", "outputDir": "dist", "timeout": "5m"}
    assert errors({"routes": ["index.html"], "root": "site", "build": build}) == []
    assert [
        e.split(":")[0] for e in errors({"routes": ["a.html"], "root": "/srv", "build": build | {"outputDir": "../x"}})
    ] == [
        "spec.review.pages.root",
        "spec.review.pages.build.outputDir",
    ]
    (late,) = errors({"routes": ["a.html"], "build": build | {"timeout": "20m"}})
    assert late.startswith("spec.review.pages.build.timeout: 20m is longer than spec.limits.timeout (10m)")
