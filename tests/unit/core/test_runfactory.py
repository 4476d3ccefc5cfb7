"""The AgentRun factory: bounded, collision-free names and one manifest shape for every trigger."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atomesh.api import AgentRun
from atomesh.core.meshplan import mesh_run_name
from atomesh.core.pod import runner_pod_name
from atomesh.core.reviewloop import revision_run_name
from atomesh.core.runfactory import MAX_RUN_NAME, RunRequest, build_run, run_name
from atomesh.core.schedule import build_scheduled_run, scheduled_run_name

LONG = "nightly-dependency-bump-for-the-payments-service-monorepo"  # 57 characters


def test_short_names_are_kept_as_they_are() -> None:
    assert run_name("fix", "-r1") == "fix-r1"


def test_long_names_are_cut_and_tagged_so_shared_prefixes_stay_distinct() -> None:
    first, second = run_name(LONG + "-a", "-r1"), run_name(LONG + "-b", "-r1")
    assert first != second
    assert len(first) == len(second) == MAX_RUN_NAME
    assert first.endswith("-r1")
    assert run_name(LONG + "-a", "-r1") == first, "deterministic"


def test_the_runner_pod_name_of_every_generated_name_fits_kubernetes() -> None:
    when = datetime(2026, 11, 24, 9, tzinfo=UTC)
    names = [run_name(LONG * 3), scheduled_run_name(LONG, when), mesh_run_name(LONG, "0123456789", LONG)]
    for name in names:
        assert len(name) <= MAX_RUN_NAME
        assert runner_pod_name(name) == f"{name}-runner"
        assert len(runner_pod_name(name)) <= 63


def revision_source(name: str) -> AgentRun:
    return AgentRun.model_validate({"metadata": {"name": name}, "spec": {"agentRef": {"name": "fix"}}})


def test_revisions_of_two_long_runs_sharing_60_characters_do_not_collide() -> None:
    prefix = "x" * 60
    first, second = revision_source(prefix + "-one"), revision_source(prefix + "-two")
    assert revision_run_name(first, 1) != revision_run_name(second, 1)


def test_a_revision_of_a_revision_names_the_chain_not_a_nested_suffix() -> None:
    first = revision_run_name(revision_source(LONG), 1)
    again = AgentRun.model_validate(
        {"metadata": {"name": first}, "spec": {"agentRef": {"name": "fix"}, "revisionOf": LONG}}
    )
    second = revision_run_name(again, 2)
    assert second == first[: -len("-r1")] + "-r2"


def test_every_run_carries_the_agent_and_trigger_labels_and_spec_trigger() -> None:
    manifest = build_run(
        RunRequest(name="r", agent="fix", trigger="event", source="delivery-1", namespace="team", labels={"a": "b"})
    )
    assert manifest["apiVersion"] == "atomesh.io/v1alpha1"
    assert manifest["kind"] == "AgentRun"
    assert manifest["metadata"]["labels"] == {"a": "b", "atomesh.io/agent": "fix", "atomesh.io/trigger": "event"}
    assert manifest["metadata"]["namespace"] == "team"
    assert manifest["spec"] == {
        "agentRef": {"name": "fix"},
        "input": {},
        "trigger": {"kind": "event", "source": "delivery-1"},
    }
    assert "revisionOf" not in manifest["spec"]


def test_a_request_labels_cannot_hide_the_agent_or_trigger() -> None:
    labels = {"atomesh.io/agent": "other", "atomesh.io/trigger": "manual"}
    manifest = build_run(RunRequest(name="r", agent="fix", trigger="schedule", source="s", labels=labels))
    assert manifest["metadata"]["labels"] == {"atomesh.io/agent": "fix", "atomesh.io/trigger": "schedule"}


def test_a_name_not_made_by_run_name_is_refused() -> None:
    with pytest.raises(ValueError, match="run_name"):
        build_run(RunRequest(name=LONG, agent="fix", trigger="manual", source="me"))


def test_scheduled_runs_come_from_the_factory() -> None:
    when = datetime(2026, 11, 24, 9, tzinfo=UTC)
    manifest = build_scheduled_run("fix", "team", scheduled_run_name("fix", when), when)
    assert manifest["spec"]["trigger"] == {"kind": "schedule", "source": "2026-11-24T09:00:00Z"}
    assert manifest["metadata"]["annotations"] == {"atomesh.io/scheduled-at": "2026-11-24T09:00:00Z"}
