"""The API models hold issue 2's field contract: names on the wire, defaults, bounds and rules."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from atomesh.api import Agent, AgentRun, Mesh, dump, parse_duration

AGENT: dict[str, Any] = {
    "apiVersion": "atomesh.io/v1alpha1",
    "kind": "Agent",
    "metadata": {"name": "bug-fix"},
    "spec": {
        "purpose": "p",
        "instructions": "i",
        "output": {"artifact": "code"},
        "workspace": {"repo": "demo/sample-app"},
        "harness": {"model": "claude-sonnet-4-5"},
    },
}


def agent_spec(**changes: Any) -> dict[str, Any]:
    return {**AGENT, "spec": {**AGENT["spec"], **changes}}


def test_agent_defaults_on_the_wire() -> None:
    spec = dump(Agent.model_validate(AGENT))["spec"]
    assert spec["harness"] == {"kind": "claude-code", "model": "claude-sonnet-4-5", "maxTurns": 30, "allowedTools": []}
    assert spec["output"] == {"artifact": "code", "paths": ["**"], "allowOutOfBoundsSymlinks": False}
    assert spec["workspace"] == {"repo": "demo/sample-app", "baseBranch": "main"}
    assert spec["review"] == {
        "reviewers": [],
        "teamReviewers": [],
        "labels": [],
        "draft": False,
        "checks": [],
        "autoMerge": "never",
        "maxRevisions": 3,
        "workbookChecks": [],
    }
    assert spec["triggers"] == {"timezone": "UTC", "concurrencyPolicy": "Forbid", "events": []}
    assert spec["limits"] == {"timeout": "30m"}
    assert spec["input"] == {"schema": {"type": "object"}}
    assert (spec["historyLimit"], spec["suspend"]) == (20, False)


def test_source_defaults() -> None:
    data = agent_spec(source={"repo": "https://git.example.com/a.git"})
    del data["spec"]["instructions"]
    assert dump(Agent.model_validate(data))["spec"]["source"] == {
        "repo": "https://git.example.com/a.git",
        "ref": "main",
        "path": ".",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"harness": {"model": "m", "maxTurns": 501}}, "maxTurns"),
        ({"harness": {"model": "m", "maxTurns": 0}}, "maxTurns"),
        ({"review": {"maxRevisions": 11}}, "maxRevisions"),
        ({"review": {"autoMerge": "always"}}, "autoMerge"),
        ({"triggers": {"concurrencyPolicy": "Sometimes"}}, "concurrencyPolicy"),
        ({"limits": {"timeout": ""}}, "timeout"),
        ({"limits": {"timeout": "0s"}}, "timeout"),
        ({"harness": {"model": "m", "kind": "copilot"}}, "kind"),
        ({"output": {"artifact": "video"}}, "artifact"),
        ({"output": {"artifact": "code", "paths": []}}, "paths"),
        ({"surprise": 1}, "surprise"),
        ({"runner": {"resources": {"requestz": {}}}}, "resources"),
    ],
)
def test_spec_rules(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Agent.model_validate(agent_spec(**changes))


def test_exactly_one_of_instructions_and_source() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        Agent.model_validate(agent_spec(source={"repo": "r"}))
    data = agent_spec()
    del data["spec"]["instructions"]
    with pytest.raises(ValidationError, match="exactly one"):
        Agent.model_validate(data)


def test_resources_take_int_or_string_quantities() -> None:
    agent = Agent.model_validate(agent_spec(runner={"resources": {"requests": {"cpu": 1, "memory": "512Mi"}}}))
    assert agent.spec.runner.resources == {"requests": {"cpu": 1, "memory": "512Mi"}}


def test_agentrun_defaults_and_rules() -> None:
    run = AgentRun.model_validate({"metadata": {"name": "r"}, "spec": {"agentRef": {"name": "bug-fix"}}})
    assert dump(run)["spec"] == {
        "agentRef": {"name": "bug-fix"},
        "input": {},
        "trigger": {"kind": "manual"},
        "feedback": [],
        "cancel": False,
    }
    with pytest.raises(ValidationError, match="kind"):
        AgentRun.model_validate({"spec": {"agentRef": {"name": "a"}, "trigger": {"kind": "cron"}}})
    with pytest.raises(ValidationError, match="line"):
        AgentRun.model_validate(
            {"spec": {"agentRef": {"name": "a"}, "feedback": [{"author": "a", "body": "b", "line": 0}]}}
        )


def test_mesh_wire_names() -> None:
    mesh = Mesh.model_validate(
        {
            "spec": {
                "agents": [{"name": "a", "agentRef": {"name": "x"}}, {"name": "b", "agentRef": {"name": "y"}}],
                "edges": [{"from": "a", "to": "b", "input": {"k": "${upstream.input.k}"}}],
                "limits": {"maxActiveRuns": 2, "maxCostUSDPerDay": 5},
            }
        }
    )
    wire = dump(mesh)["spec"]
    assert wire["edges"] == [{"from": "a", "to": "b", "when": "accepted", "input": {"k": "${upstream.input.k}"}}]
    assert wire["limits"] == {"maxActiveRuns": 2, "maxCostUSDPerDay": 5.0}
    assert wire["suspend"] is False


def test_status_is_lenient_and_camel_case() -> None:
    run = AgentRun.model_validate(
        {
            "spec": {"agentRef": {"name": "a"}},
            "status": {"phase": "AwaitingReview", "usage": {"costUSD": 0.5, "futureField": 1}, "unknown": True},
        }
    )
    assert dump(run)["status"]["usage"] == {"inputTokens": 0, "outputTokens": 0, "costUSD": 0.5, "turns": 0}


def test_every_field_is_described() -> None:
    for model in (Agent, AgentRun, Mesh):
        schema = model.model_json_schema(by_alias=True)
        for name, definition in schema["$defs"].items():
            for field, prop in definition.get("properties", {}).items():
                # Pydantic leaves out a field description equal to its model's docstring.
                refs = [prop, *prop.get("anyOf", [])]
                described = [schema["$defs"][r["$ref"].rsplit("/", 1)[-1]] for r in refs if "$ref" in r]
                assert prop.get("description") or any(d.get("description") for d in described), f"{name}.{field}"


def test_parse_duration() -> None:
    assert [parse_duration(t) for t in ("90s", "15m", "1h30m")] == [90, 900, 5400]
    with pytest.raises(ValueError, match="15m"):
        parse_duration("forever")


def test_redact_userinfo_masks_credentials_of_every_url() -> None:
    from atomesh.api.common import redact_userinfo

    text = "git ls-remote https://x-access-token:ghs_abc@github.com/a/b.git and ssh://git:pw@host/c.git failed"
    assert redact_userinfo(text) == "git ls-remote https://***@github.com/a/b.git and ssh://***@host/c.git failed"
    assert redact_userinfo("https://github.com/a/b.git") == "https://github.com/a/b.git"
