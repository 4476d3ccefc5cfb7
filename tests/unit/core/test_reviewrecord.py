"""The review record behind the fleet table and an Agent's status.reviews: counted by pull request."""

from __future__ import annotations

from tests.unit.core.supervision_builders import NOW, run

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRun, AgentRunStatus
from atomesh.core.reviewrecord import ReviewWait, awaits_reviewer, review_record, review_wait
from atomesh.core.rollup import rollup_runs
from atomesh.core.supervision_facts import run_facts


def history() -> list[AgentRun]:
    return [
        # PR 1: published 200 min ago, changes requested, the revision merged 140 min ago: 60 min, 1 revision.
        run("a", phase="Succeeded", published=200, decided=140, state="merged", url="pr/1", cost=1.0),
        run("a-r1", phase="Succeeded", published=170, decided=140, state="merged", url="pr/1", revision=1),
        # PR 2: merged 90 min after it was published, after 2 revisions (the earlier runs were pruned).
        run("b-r2", phase="Succeeded", published=100, decided=10, state="merged", url="pr/2", revision=2),
        # PR 3: closed after 30 min.
        run("c", phase="Rejected", published=100, decided=70, state="closed", url="pr/3"),
        # PR 4: open; PR 5: changes requested, its revision at work: neither is decided.
        run("d", phase="AwaitingReview", published=10, url="pr/4"),
        run("e", phase="AwaitingReview", published=50, decided=20, state="changesRequested", url="pr/5"),
        run("e-r1", phase="Running", started=15),
        run("f", phase="Failed", completed=5, reason=c.MODEL_ERROR),
    ]


def test_figures_count_pull_requests_with_their_first_hand_over_and_final_decision() -> None:
    record = review_record(run_facts(item) for item in history())
    assert (record.pull_requests, record.decided, record.merged) == (5, 3, 2)
    assert record.acceptance_rate == 2 / 3
    assert record.median_review_seconds == 60 * 60  # of 60, 90 and 30 minutes
    assert record.revisions_per_accepted == 1.5  # (1 + 2) / 2


def test_nothing_decided_gives_no_rate_and_no_median_rather_than_zero() -> None:
    record = review_record(run_facts(item) for item in history()[4:])
    assert (record.pull_requests, record.decided, record.merged) == (2, 0, 0)
    assert (record.acceptance_rate, record.median_review_seconds, record.revisions_per_accepted) == (None, None, None)


def test_a_decision_stamped_before_its_publication_is_left_out_of_the_median_only() -> None:
    skewed = run("g", phase="Succeeded", published=10, decided=12, state="merged", url="pr/7")
    on_time = run("h", phase="Rejected", published=40, decided=20, state="closed", url="pr/8")
    record = review_record(run_facts(item) for item in (skewed, on_time))
    assert (record.decided, record.acceptance_rate, record.median_review_seconds) == (2, 0.5, 20 * 60)


def test_the_agent_rollup_writes_the_record_rounded_in_wire_names() -> None:
    status = rollup_runs(history(), now=NOW)
    assert status["reviews"] == {
        "pullRequests": 5,
        "decided": 3,
        "merged": 2,
        "acceptanceRate": 0.6667,
        "medianReviewSeconds": 3600,
        "revisionsPerAccepted": 1.5,
    }
    assert status["runs"]["awaitingReview"] == 2
    assert rollup_runs([])["reviews"] == {"pullRequests": 0, "decided": 0, "merged": 0}


def status_of(**fields: object) -> AgentRunStatus:
    return AgentRunStatus.model_validate(fields)


OPEN = {"state": "open", "url": "pr/1", "publishedAt": "2026-11-24T10:00:00Z"}


def test_a_decision_on_a_run_awaiting_a_reviewer_ends_one_wait_from_its_hand_over() -> None:
    waiting = status_of(phase="AwaitingReview", review=OPEN)
    merged = status_of(phase="Succeeded", review={**OPEN, "state": "merged", "decidedAt": "2026-11-24T11:30:00Z"})
    revising = status_of(
        phase="AwaitingReview",
        review={**OPEN, "state": "changesRequested", "decidedAt": "2026-11-24T10:05:00Z", "revisionRun": "a-r1"},
    )
    assert review_wait(waiting, merged) == ReviewWait("merged", 90 * 60)
    assert review_wait(waiting, revising) == ReviewWait("changesRequested", 5 * 60)
    # The same decision seen again, or a run that waited on its revision, ends no wait.
    assert review_wait(merged, merged) is None
    assert review_wait(revising, merged) is None
    assert review_wait(waiting, waiting) is None
    assert review_wait(status_of(phase="Running"), merged) is None


def test_only_a_run_whose_pull_request_waits_for_a_person_is_in_the_queue() -> None:
    assert awaits_reviewer("AwaitingReview", None)
    assert not awaits_reviewer("AwaitingReview", "a-r1")
    assert not awaits_reviewer("Succeeded", None)
