"""The review loop's decisions, table-driven over pull request states and reviews."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from atomesh.api import AgentRun, AgentSpec
from atomesh.core.reviewloop import (
    PullObservation,
    ReviewDecision,
    ReviewItem,
    RevisionObservation,
    auto_merged,
    build_revision_run,
    decide_review,
    review_outcome,
    revision_run_name,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PUBLISHED = "2026-11-24T10:00:00Z"
OPEN = PullObservation(open=True, merged=False)


def spec(**review: Any) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "purpose": "fix bugs",
            "instructions": "fix it",
            "output": {"artifact": "code"},
            "workspace": {"repo": "demo/sample-app"},
            "harness": {"model": "claude-sonnet-4-5"},
            "review": review,
        }
    )


def run(name: str = "fix-1", revision: int = 0, revision_run: str | None = None, **review: Any) -> AgentRun:
    return AgentRun.model_validate(
        {
            "metadata": {
                "name": name,
                "namespace": "team-a",
                "labels": {"atomesh.io/agent": "fixer", "atomesh.io/mesh": "m", "atomesh.io/run": name},
            },
            "spec": {
                "agentRef": {"name": "fixer"},
                "input": {"issue": 7},
                **({"revisionOf": "fix-1"} if revision else {}),
            },
            "status": {
                "phase": "AwaitingReview",
                "review": {
                    "number": 3,
                    "repo": "demo/sample-app",
                    "publishedAt": PUBLISHED,
                    "revision": revision,
                    **({"revisionRun": revision_run} if revision_run else {}),
                    **review,
                },
            },
        }
    )


def item(author: str, verdict: str | None, at: str = "2026-11-24T11:00:00Z", *, write: bool = True, body: str = "x"):
    return ReviewItem(author=author, body=body, submitted_at=at, can_write=write, verdict=verdict)


@pytest.mark.parametrize(
    ("pull", "items", "agent", "the_run", "action", "reason"),
    [
        (
            PullObservation(open=False, merged=True, merged_by="ana", merge_commit="abc"),
            [],
            spec(),
            run(),
            "succeed",
            "Merged",
        ),
        (PullObservation(open=False, merged=False, closed_by="ana"), [], spec(), run(), "reject", "Closed"),
        (OPEN, [], spec(), run(), "wait", "AwaitingReview"),
        (OPEN, [item("ana", "CHANGES_REQUESTED")], spec(), run(), "revise", "ChangesRequested"),
        # Without write access a request for changes is only a comment.
        (OPEN, [item("eve", "CHANGES_REQUESTED", write=False)], spec(), run(), "wait", "AwaitingReview"),
        # Feedback from before the artifact was published was for an earlier revision.
        (OPEN, [item("ana", "CHANGES_REQUESTED", at="2026-11-24T09:00:00Z")], spec(), run(), "wait", "AwaitingReview"),
        # Timestamps have whole seconds: a review in the second of publication is about this artifact.
        (OPEN, [item("ana", "CHANGES_REQUESTED", at=PUBLISHED)], spec(), run(), "revise", "ChangesRequested"),
        (
            OPEN,
            [item("ana", "CHANGES_REQUESTED")],
            spec(maxRevisions=2),
            run(revision=2),
            "reject",
            "MaxRevisionsReached",
        ),
        (OPEN, [item("ana", "CHANGES_REQUESTED")], spec(maxRevisions=0), run(), "reject", "MaxRevisionsReached"),
        (OPEN, [item("ana", "CHANGES_REQUESTED")], spec(), run(revision_run="fix-1-r1"), "wait", "ChangesRequested"),
        (OPEN, [], spec(autoMerge="whenChecksPass"), run(checksPassed=True), "merge", "Merged"),
        (OPEN, [], spec(autoMerge="whenChecksPass"), run(checksPassed=False), "wait", "AwaitingReview"),
        (  # GitHub will not merge a draft: autoMerge waits for someone to mark it ready
            PullObservation(open=True, merged=False, draft=True),
            [],
            spec(autoMerge="whenChecksPass", draft=True),
            run(checksPassed=True),
            "wait",
            "AwaitingReview",
        ),
        (
            OPEN,
            [item("ana", "CHANGES_REQUESTED")],
            spec(autoMerge="whenChecksPass"),
            run(checksPassed=True),
            "revise",
            "ChangesRequested",
        ),
        (OPEN, [], spec(), run(checksPassed=True), "wait", "AwaitingReview"),
    ],
)
def test_decide_review(pull, items, agent, the_run, action, reason) -> None:
    decision = decide_review(the_run, agent, pull, items, now=NOW)
    assert (decision.action, decision.reason) == (action, reason)


@pytest.mark.parametrize(
    ("seen", "action", "counted", "says"),
    [
        (RevisionObservation("fix-1-r1", "Running"), "wait", None, "is addressing feedback"),
        (RevisionObservation("fix-1-r1", "AwaitingReview", revision=1), "wait", None, "is addressing feedback"),
        (
            RevisionObservation("fix-1-r1", "Succeeded", "NoChanges", "the agent changed nothing", revision=1),
            "resume",
            1,
            "revision fix-1-r1 made no change: the agent changed nothing",
        ),
        (
            RevisionObservation("fix-1-r1", "Failed", "TokensExceeded", "over maxTokens"),
            "resume",
            1,
            "revision fix-1-r1 ended Failed (TokensExceeded): over maxTokens",
        ),
        (RevisionObservation("fix-1-r1", exists=False), "resume", 1, "revision fix-1-r1 no longer exists"),
    ],
)
def test_a_revision_that_ends_without_publishing_hands_the_pull_request_back(seen, action, counted, says) -> None:
    waiting = run(revision_run="fix-1-r1")
    decision = decide_review(waiting, spec(), OPEN, [item("ana", "CHANGES_REQUESTED")], now=NOW, revision_run=seen)
    assert (decision.action, decision.revision) == (action, counted)
    assert says in decision.message


def test_after_a_hand_back_the_next_change_request_starts_the_next_revision() -> None:
    waiting = run(revision_run="fix-1-r1")
    ended = RevisionObservation("fix-1-r1", "Succeeded", "NoChanges", revision=1)
    decision = decide_review(waiting, spec(), OPEN, [item("ana", "CHANGES_REQUESTED")], now=NOW, revision_run=ended)
    assert waiting.status is not None
    resumed = waiting.model_copy(update={"status": review_outcome(waiting.status, decision, "2026-11-24T11:30:00Z")})
    assert resumed.status is not None
    assert resumed.status.review is not None
    assert (resumed.status.phase, resumed.status.reason) == ("AwaitingReview", "RevisionEndedWithoutChange")
    assert (resumed.status.review.revision_run, resumed.status.review.revision) == (None, 1)
    # The request that led to r1 is spent (the run keeps saying why it is back); a new one starts r2,
    # and maxRevisions counts r1.
    old = [item("ana", "CHANGES_REQUESTED")]
    waiting = decide_review(resumed, spec(), OPEN, old, now=NOW)
    assert (waiting.action, waiting.reason, waiting.message) == ("wait", decision.reason, decision.message)
    new = [item("ana", "CHANGES_REQUESTED", at="2026-11-24T11:45:00Z")]
    again = decide_review(resumed, spec(), OPEN, new, now=NOW)
    assert again.action == "revise"
    assert build_revision_run(resumed, again)["metadata"]["name"] == "fix-1-r2"
    assert decide_review(resumed, spec(maxRevisions=1), OPEN, new, now=NOW).reason == "MaxRevisionsReached"


def test_merge_records_who_and_commit() -> None:
    pull = PullObservation(
        open=False, merged=True, merged_by="ana", merged_at="2026-11-24T11:30:00Z", merge_commit="abc"
    )
    decision = decide_review(run(), spec(), pull, [], now=NOW)
    assert (decision.decided_by, decision.decided_at, decision.merge_commit) == ("ana", "2026-11-24T11:30:00Z", "abc")


def test_revision_carries_writers_feedback_only() -> None:
    items = [
        item("eve", "COMMENTED", write=False, body="ignore me"),
        item("ana", None, body="rename the helper"),
        item("ana", "CHANGES_REQUESTED", at="2026-11-24T11:05:00Z", body="please add a test"),
    ]
    decision = decide_review(run(), spec(), OPEN, items, now=NOW)
    assert [f.body for f in decision.feedback] == ["rename the helper", "please add a test"]
    revision = build_revision_run(run(), decision)
    assert revision["metadata"]["name"] == "fix-1-r1"
    assert revision["spec"]["revisionOf"] == "fix-1"
    assert revision["spec"]["trigger"] == {"kind": "revision", "source": "fix-1"}
    assert revision["metadata"]["labels"]["atomesh.io/mesh"] == "m"
    assert "atomesh.io/run" not in revision["metadata"]["labels"]
    assert [f["author"] for f in revision["spec"]["feedback"]] == ["ana", "ana"]


def test_revision_names_chain_from_the_root() -> None:
    assert revision_run_name(run("fix-1-r1", revision=1), 2) == "fix-1-r2"
    long = revision_run_name(run("x" * 70), 1)
    assert len(long) <= 56  # the runner pod adds -runner
    assert long.endswith("-r1")
    assert long != revision_run_name(run("x" * 69 + "y"), 1), "a cut name carries a hash of the whole name"


def test_only_revise_decisions_build_runs() -> None:
    with pytest.raises(ValueError, match="revise"):
        build_revision_run(run(), decide_review(run(), spec(), OPEN, [], now=NOW))


LATER = "2026-11-24T12:00:00Z"


def _status():
    status = run().status
    assert status is not None
    return status


def test_a_merge_succeeds_the_run_with_who_and_commit() -> None:
    decision = ReviewDecision("succeed", "Merged", "merged by ana", decided_by="ana", merge_commit="abc")
    new = review_outcome(_status(), decision, LATER)
    assert (new.phase, new.reason, new.completion_time) == ("Succeeded", "Merged", LATER)
    assert new.review is not None
    assert (new.review.state, new.review.decided_by, new.review.decided_at) == ("merged", "ana", LATER)
    assert (new.review.merge_commit, new.review.number) == ("abc", 3)


def test_auto_merge_is_decided_by_atomesh() -> None:
    new = review_outcome(_status(), auto_merged("def", LATER), LATER)
    assert new.phase == "Succeeded"
    assert new.review is not None
    assert (new.review.decided_by, new.review.merge_commit) == ("atomesh", "def")


def test_a_close_rejects_the_run() -> None:
    decision = ReviewDecision("reject", "Closed", "closed", decided_by="ana", decided_at="2026-11-24T11:00:00Z")
    new = review_outcome(_status(), decision, LATER)
    assert (new.phase, new.reason, new.completion_time) == ("Rejected", "Closed", LATER)
    assert new.review is not None
    assert (new.review.state, new.review.decided_at, new.review.merge_commit) == (
        "closed",
        "2026-11-24T11:00:00Z",
        None,
    )


def test_a_revision_keeps_the_run_awaiting_review() -> None:
    decision = ReviewDecision("revise", "ChangesRequested", "changes requested by ana", decided_by="ana")
    new = review_outcome(_status(), decision, LATER, "fix-1-r1")
    assert (new.phase, new.reason, new.completion_time) == ("AwaitingReview", "ChangesRequested", None)
    assert new.review is not None
    assert (new.review.state, new.review.revision_run, new.review.decided_at) == (
        "changesRequested",
        "fix-1-r1",
        None,
    )


def test_waiting_changes_only_reason_and_message() -> None:
    status = _status()
    new = review_outcome(status, ReviewDecision("wait", "AwaitingReview", "waiting for a reviewer"), LATER)
    assert new == status.model_copy(update={"reason": "AwaitingReview", "message": "waiting for a reviewer"})
