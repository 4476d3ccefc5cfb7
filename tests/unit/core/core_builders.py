"""Builders of Agents and AgentRuns for the core unit tests."""

from __future__ import annotations

from typing import Any

from atomesh.api.agent import Agent, AgentSpec
from atomesh.api.agentrun import AgentRun, AgentSnapshot

SPEC: dict[str, Any] = {
    "purpose": "Keep the changelog tidy.",
    "instructions": "Sort the changelog entries.",
    "input": {"schema": {"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]}},
    "output": {"artifact": "doc", "paths": ["CHANGELOG.md"]},
    "workspace": {"repo": "acme/site", "baseBranch": "main"},
    "harness": {"kind": "claude-code", "model": "claude-sonnet-4-5"},
    "limits": {"timeout": "15m"},
}


def agent_spec(**overrides: Any) -> AgentSpec:
    return AgentSpec.model_validate({**SPEC, **overrides})


def agent(status: dict[str, Any] | None = None, generation: int = 1, **overrides: Any) -> Agent:
    body: dict[str, Any] = {
        "metadata": {"name": "tidy", "namespace": "team", "generation": generation},
        "spec": {**SPEC, **overrides},
    }
    if status is not None:
        body["status"] = status
    return Agent.model_validate(body)


def run(name: str = "tidy-1", input_: dict[str, Any] | None = None, **spec: Any) -> AgentRun:
    return AgentRun.model_validate(
        {
            "metadata": {"name": name, "namespace": "team", "uid": "uid-1", "generation": 1},
            "spec": {"agentRef": {"name": "tidy"}, "input": input_ or {"topic": "release"}, **spec},
        }
    )


def snapshot(**overrides: Any) -> AgentSnapshot:
    return AgentSnapshot(
        name="tidy", revision="inline@0123456789ab", spec_hash="0123456789ab" * 5, spec=agent_spec(**overrides)
    )
