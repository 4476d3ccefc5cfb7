"""The AgentRun controller's side of the mesh: held, adopted, released and unmappable runs, and
history pruning that keeps a mesh execution's runs together."""

from __future__ import annotations

import pytest
from core_builders import agent, run

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRun
from atomesh.api.constants import ANNOTATION_INPUT_ERROR, ANNOTATION_QUEUED, LABEL_MESH, LABEL_MESH_EXECUTION
from atomesh.core.admission import admit_run
from atomesh.core.schedule import RunInfo, prune_history

READY = {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}], "specHash": "abc"}


def mesh_run(labels: dict[str, str], annotations: dict[str, str] | None = None) -> AgentRun:
    body = run().model_dump(by_alias=True)
    body["metadata"] |= {"labels": labels, "annotations": annotations or {}}
    return AgentRun.model_validate(body)


ADOPTED = {LABEL_MESH: "release", LABEL_MESH_EXECUTION: "e1"}


@pytest.mark.parametrize(
    ("labels", "annotations", "verdict", "reason", "message"),
    [
        (ADOPTED, {ANNOTATION_QUEUED: "waiting for a free slot"}, "hold", c.QUEUED, "waiting for a free slot"),
        ({LABEL_MESH: "release"}, {}, "hold", c.QUEUED, "waiting for mesh release to admit it into an execution"),
        (ADOPTED, {ANNOTATION_INPUT_ERROR: "edge a->b: no such field"}, "fail", c.INVALID_INPUT, "edge a->b"),
        (
            ADOPTED,
            {ANNOTATION_INPUT_ERROR: "edge a->b: bad", ANNOTATION_QUEUED: "suspended"},
            "fail",
            c.INVALID_INPUT,
            "bad",
        ),
        (ADOPTED, {}, "start", c.CREATED, "agent revision"),
    ],
)
def test_mesh_gate(
    labels: dict[str, str], annotations: dict[str, str], verdict: str, reason: str, message: str
) -> None:
    admission = admit_run(mesh_run(labels, annotations), agent(status=READY))
    assert (admission.verdict, admission.reason) == (verdict, reason)
    assert message in admission.message


def test_a_held_run_is_held_even_without_its_agent() -> None:
    admission = admit_run(mesh_run(ADOPTED, {ANNOTATION_QUEUED: "mesh is suspended"}), None)
    assert (admission.verdict, admission.reason) == ("hold", c.QUEUED)


def info(name: str, phase: str, minute: int, execution: str = "") -> RunInfo:
    stamp = f"2026-01-01T00:{minute:02d}:00Z"
    done = phase in ("Succeeded", "Failed", "Rejected", "Cancelled")
    return RunInfo(name, phase, created=stamp, completed=stamp if done else "", execution=execution)


def test_pruning_keeps_an_execution_in_flight_whole() -> None:
    # Agent "fix" has one finished run in an execution whose release-notes run still runs.
    own = [info("fix-e1", "Succeeded", 1, "e1"), info("fix-2", "Failed", 2)]
    executions = {"e1": [info("triage-e1", "Succeeded", 0, "e1"), own[0], info("notes-e1", "Running", 3, "e1")]}
    assert prune_history(own, 0, executions) == ["fix-2"]


def test_pruning_deletes_a_finished_execution_whole_upstream_first() -> None:
    own = [info("fix-e1", "Succeeded", 1, "e1"), info("fix-e2", "Succeeded", 5, "e2")]
    executions = {
        "e1": [info("notes-e1", "Succeeded", 3, "e1"), own[0], info("triage-e1", "Succeeded", 0, "e1")],
        "e2": [info("triage-e2", "Succeeded", 4, "e2"), own[1]],
    }
    assert prune_history(own, 1, executions) == ["triage-e1", "fix-e1", "notes-e1"]
    assert prune_history(own, 2, executions) == []
