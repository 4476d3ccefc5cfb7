"""What `atomesh dev` narrates for each change of an AgentRun (devstack.narrator.narrate, pure)."""

from __future__ import annotations

from typing import Any

from atomesh.devstack.narrator import narrate

URL = "http://127.0.0.1:4000/demo/sample-app/pull/1"


def run(name: str = "triage-abc", *, spec: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"agentRef": {"name": "issue-triage"}, "trigger": {"kind": "manual"}, **(spec or {})},
        "status": status,
    }


def review(**fields: Any) -> dict[str, Any]:
    return {"repo": "demo/sample-app", "url": URL, "number": 1, "state": "open", **fields}


def test_a_new_run_says_it_was_created_and_is_pending_without_saying_so() -> None:
    assert narrate(None, run(), {}) == ["run        triage-abc: created (Agent issue-triage)"]
    assert narrate(run(), run(phase="Pending", reason="Created"), {}) == []


def test_a_run_first_seen_past_pending_says_its_phase() -> None:
    assert narrate(None, run(phase="Running"), {}) == [
        "run        triage-abc: created (Agent issue-triage)",
        "run        triage-abc: Running",
    ]


def test_an_unchanged_run_says_nothing() -> None:
    current = run(phase="AwaitingReview", reason="AwaitingReview", review=review())
    assert narrate(current, current, {}) == []


def test_a_phase_change_is_one_line_without_a_reason_unless_it_failed() -> None:
    assert narrate(run(phase="Pending", reason="PodCreated"), run(phase="Running", reason="Running"), {}) == [
        "run        triage-abc: Pending → Running"
    ]
    failed = run(phase="Failed", reason="ModelError", message="no scripted turn for this request")
    assert narrate(run(phase="Running"), failed, {}) == [
        "run        triage-abc: Running → Failed (ModelError: no scripted turn for this request)"
    ]


def test_a_pull_request_opened_names_its_url_on_every_line() -> None:
    before = run(phase="Running")
    after = run(phase="AwaitingReview", reason="AwaitingReview", review=review())
    assert narrate(before, after, {}) == [
        f"run        triage-abc: Running → AwaitingReview  {URL}",
        f"run        triage-abc: pull request #1 opened  {URL}",
    ]


def test_merged_and_closed_say_by_whom() -> None:
    before = run(phase="AwaitingReview", review=review())
    merged = run(phase="Succeeded", reason="Merged", review=review(state="merged", decidedBy="reviewer"))
    assert narrate(before, merged, {}) == [
        f"run        triage-abc: AwaitingReview → Succeeded  {URL}",
        f"run        triage-abc: pull request #1 merged by reviewer  {URL}",
    ]
    closed = run(
        phase="Rejected", reason="Closed", message="closed by reviewer", review=review(state="closed", decidedBy="ann")
    )
    assert narrate(before, closed, {}) == [
        f"run        triage-abc: AwaitingReview → Rejected (Closed: closed by reviewer)  {URL}",
        f"run        triage-abc: pull request #1 closed by ann  {URL}",
    ]


def test_changes_requested_and_the_revision_that_addresses_them() -> None:
    before = run(phase="AwaitingReview", review=review())
    after = run(
        phase="AwaitingReview",
        review=review(state="changesRequested", decidedBy="reviewer", revisionRun="triage-abc-r1"),
    )
    assert narrate(before, after, {}) == [
        f"run        triage-abc: changes requested by reviewer; revision triage-abc-r1 addresses them  {URL}"
    ]
    revision = run("triage-abc-r1", spec={"revisionOf": "triage-abc", "trigger": {"kind": "revision"}})
    assert narrate(None, revision, {"triage-abc": URL}) == [
        f"run        triage-abc-r1: revision of triage-abc started (Agent issue-triage)  {URL}"
    ]


def test_a_pull_request_handed_back_says_why() -> None:
    before = run(phase="AwaitingReview", reason="ChangesRequested", review=review(revisionRun="triage-abc-r1"))
    after = run(
        phase="AwaitingReview",
        reason="RevisionEndedWithoutChange",
        message="revision triage-abc-r1 made no change",
        review=review(),
    )
    assert narrate(before, after, {}) == [
        "run        triage-abc: back in review (RevisionEndedWithoutChange: revision triage-abc-r1 made no change)"
        f"  {URL}"
    ]


def test_a_mesh_edge_fired_names_the_mesh_the_edge_and_the_upstream_pull_request() -> None:
    created = run("fix-1a2b", spec={"agentRef": {"name": "bug-fix"}, "trigger": {"kind": "mesh"}})
    created["metadata"] |= {
        "labels": {"atomesh.io/mesh": "triage-fix-release"},
        "annotations": {"atomesh.io/mesh-edge": "triage->fix", "atomesh.io/upstream-runs": "triage-abc"},
    }
    assert narrate(None, created, {"triage-abc": URL}) == [
        "mesh       triage-fix-release: edge triage->fix fired after triage-abc: created fix-1a2b (Agent bug-fix)"
        f"  {URL}"
    ]
