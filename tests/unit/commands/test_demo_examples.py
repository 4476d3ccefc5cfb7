"""Which Agent `atomesh dev --demo --agent NAME` runs, with which input, and the mistakes it reports
before any component starts."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from atomesh.commands import dev
from atomesh.commands.examples import DEMO_INPUTS, demo_input, find_agent, load_manifests

AGENTS = Path(__file__).resolve().parents[3] / "agents"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    dev.add_arguments(parser)
    return parser.parse_args(["--agents", str(AGENTS), *argv])


def test_every_example_agent_has_a_demo_input_its_schema_accepts() -> None:
    agents = [doc for doc in load_manifests(AGENTS) if doc["kind"] == "Agent"]
    assert {agent["metadata"]["name"] for agent in agents} == set(DEMO_INPUTS)
    for agent in agents:
        assert demo_input(agent) == DEMO_INPUTS[agent["metadata"]["name"]]


def test_an_agent_without_a_demo_input_runs_with_an_empty_one_if_its_schema_allows() -> None:
    schema = {"type": "object", "properties": {"path": {"type": "string"}}}
    agent = {"metadata": {"name": "mine"}, "spec": {"input": {"schema": schema}}}
    assert demo_input(agent) == {}
    agent["spec"]["input"]["schema"] = schema | {"required": ["path"]}
    with pytest.raises(ValueError, match=r"--agent mine: .*rejects an empty input .*'path' is a required property"):
        demo_input(agent)


def test_an_unknown_agent_names_the_ones_there() -> None:
    with pytest.raises(FileNotFoundError, match=r"--agent nope: no Agent .*\(Agents there: bug-fix, csv-cleaner, "):
        find_agent(AGENTS, "nope")
    assert find_agent(AGENTS, "csv-cleaner")["spec"]["output"]["artifact"] == "data"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--agent", "csv-cleaner"), "--agent NAME runs with --demo"),
        (("--demo", "--agent", "csv-cleaner", "--mesh", "triage-fix-release"), "the demo runs one of them"),
        (("--demo", "--agent", "nope"), "--agent nope: no Agent of that name"),
    ],
)
def test_mistakes_are_found_before_anything_starts(argv: tuple[str, ...], message: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        dev.check(parse(*argv))
