"""The review loop when things go wrong: a publish step re-run after a crash, an operator restarted
between the merge and the status update, webhooks off (polling alone), and GitHub answering 502s
and rate limits. Each test starts its own operator serving only its own namespace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomesh.api import constants as k
from atomesh.api.runfile import PublishSummary
from tests.e2e.review.conftest import (
    MODEL_KEY,
    ReviewCluster,
    ReviewStack,
    RunningOperator,
    edit_turns,
    start_operator,
)
from tests.fixtures.anthropic import StartEmulator
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def guide(name: str, extra: str = "") -> dict[str, str]:
    return {f"docs/{name}.md": f"# {name}\n\nHow to greet people.\n{extra}"}


@pytest.fixture
def operators(review_cluster: ReviewCluster) -> Iterator[list[RunningOperator]]:
    """Operators a test starts; each is stopped at teardown (stopping twice is harmless)."""
    started: list[RunningOperator] = []
    yield started
    for running in started:
        running.thread.stop()


def test_publish_rerun_after_a_crash_opens_no_second_pull_request(
    tmp_path: Path, review_cluster: ReviewCluster, anthropic_emulator: StartEmulator
) -> None:
    """The runner's own steps on one shared volume: publish dies after pushing (GitHub refuses to open
    the pull request), then runs again twice; one pull request, one branch tip."""
    github, repo = review_cluster.github, review_cluster.repo
    model = anthropic_emulator(edit_turns(guide("rerun"), "Added a guide."))
    pod = RunnerPod(
        tmp_path / "pod",
        forge_api_url=github.url,
        forge_git_url=github.git_url,
        forge_token=github.bot_token,
        model_base_url=model.url,
        model_api_key=MODEL_KEY,
    )
    spec = agent_spec(workspace={"repo": repo, "baseBranch": "main"}, output={"artifact": "doc", "paths": ["docs/**"]})
    pod.write_run_file(run_file(agent="rerun", run="rerun-1", spec=spec))
    branch = f"{k.BRANCH_PREFIX}/rerun/rerun-1"
    for step in ("checkout", "agent"):
        done = pod.run(step)
        assert done.returncode == 0, done.stderr

    github.faults.fail_next(1, status=403, method="POST")  # the PR create: not retryable, the step fails
    crashed = pod.run("publish")
    assert crashed.returncode == 1, crashed.stdout
    pushed = github.emulator.branch_sha(repo, branch)
    assert pushed is not None, "the first attempt pushed before it failed"
    pulls = review_cluster.github.client(github.reviewer_token).get_repo(repo)
    assert pulls.get_pulls(state="all", head=f"demo:{branch}").totalCount == 0

    numbers = []
    for _ in range(2):  # resumed, then repeated after success (a crash before the summary was read)
        again = pod.run("publish")
        assert again.returncode == 0, again.stderr
        summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
        assert summary.outcome == "published", summary.message
        assert summary.artifact is not None
        assert summary.artifact.commit == pushed
        assert summary.artifact.files == ["docs/rerun.md"]
        assert summary.review is not None
        numbers.append(summary.review.number)
    assert numbers[0] == numbers[1]
    found = list(pulls.get_pulls(state="all", head=f"demo:{branch}"))
    assert [pull.number for pull in found] == [numbers[0]]
    assert found[0].head.sha == pushed == github.emulator.branch_sha(repo, branch)
    for text in (crashed.stdout, crashed.stderr, again.stdout, again.stderr, found[0].body or ""):
        assert github.bot_token not in text
        assert MODEL_KEY not in text


def test_operator_restarted_between_review_and_status_update_records_it_once(
    review_stack: ReviewStack, operators: list[RunningOperator]
) -> None:
    """The operator is down whenever the reviewer acts (its webhooks find no one listening); each
    decision is recorded once by the next operator: one revision run, one comment, one Merged."""
    stack = review_stack
    stack.script(
        edit_turns(guide(stack.namespace), "Added a guide."),
        edit_turns(guide(stack.namespace, "\nSay hello first.\n"), "Said hello."),
    )

    def restart() -> RunningOperator:
        if operators:
            operators[-1].thread.stop()
        operators.append(start_operator(stack.cluster, namespaces=[stack.namespace], poll=0.5))
        return operators[-1]

    restart()
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]

    operators[-1].thread.stop()
    stack.pull(number).create_review(body="Say hello first.", event="REQUEST_CHANGES")
    restart()
    assert stack.awaiting_review("guide-1-r1")["review"]["number"] == number

    operators[-1].thread.stop()
    assert stack.pull(number).merge().merged
    assert stack.run("guide-1")["status"]["phase"] == "AwaitingReview"
    restart()
    final = {name: stack.finished(name) for name in ("guide-1", "guide-1-r1")}
    assert {status["phase"] for status in final.values()} == {"Succeeded"}
    assert final["guide-1"]["review"]["decidedBy"] == stack.github.reviewer

    # Once more: a fresh operator finds nothing left to record.
    third = restart()
    stack.wait_until(
        "the fresh operator to observe both runs",
        lambda: sorted(third.thread.ctx.metrics.run_phases.values()) == ["Succeeded", "Succeeded"],
    )
    assert {name: stack.run(name)["status"] for name in final} == final
    assert sorted(run["metadata"]["name"] for run in stack.runs()) == ["guide-1", "guide-1-r1"]
    for name in final:
        assert stack.event_count(name, "Merged") == 1, stack.events(name)
    assert stack.event_count("guide-1", "ChangesRequested") == 1
    comments = [c.body for c in stack.pull(number).get_issue_comments() if "starting revision" in c.body]
    assert len(comments) == 1, comments
    stack.assert_no_secrets()


def test_polling_alone_drives_a_revision_and_the_merge(
    review_stack: ReviewStack, operators: list[RunningOperator]
) -> None:
    stack = review_stack
    stack.script(
        edit_turns(guide(stack.namespace), "Added a guide."),
        edit_turns(guide(stack.namespace, "\nSay hello first.\n"), "Said hello."),
    )
    operators.append(start_operator(stack.cluster, namespaces=[stack.namespace], webhooks=False, poll=0.5))
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]

    stack.pull(number).create_review(body="Say hello first.", event="REQUEST_CHANGES")
    revised = stack.awaiting_review("guide-1-r1")
    assert revised["review"]["number"] == number
    assert stack.pull(number).merge().merged

    assert stack.finished("guide-1-r1")["phase"] == "Succeeded"
    assert stack.finished("guide-1")["phase"] == "Succeeded"
    assert not [d for d in stack.github.deliveries() if d.url.startswith(operators[0].thread.metrics_url)]
    stack.assert_no_secrets()


def test_github_faults_during_the_loop_are_survived(
    review_stack: ReviewStack, operators: list[RunningOperator]
) -> None:
    stack, faults = review_stack, review_stack.github.faults
    stack.script(edit_turns(guide(stack.namespace), "Added a guide."))
    running = start_operator(stack.cluster, namespaces=[stack.namespace], webhooks=False, poll=0.5)
    operators.append(running)
    stack.agent("guide", "doc", ["docs/**"])

    # The runner's publish meets them first (its writes are the only POSTs in this test).
    faults.fail_next(1, status=502, method="POST")
    faults.rate_limit_secondary(1, retry_after=1, method="POST")
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]
    assert faults.pending == 0

    # Then the operator's polls (the reviewer's merge is a PUT and passes).
    pull = stack.pull(number)
    faults.fail_next(2, status=502, method="GET")
    faults.rate_limit_primary(1, reset_in=1, method="GET")
    faults.rate_limit_primary(1, reset_in=1, status=429, method="GET")
    faults.rate_limit_secondary(1, retry_after=1, method="GET")
    assert pull.merge().merged

    final = stack.finished("guide-1")
    assert final["phase"] == "Succeeded", final.get("message")
    assert final["review"]["decidedBy"] == stack.github.reviewer
    assert faults.pending == 0
    assert len(running.sleep.waits) >= 5, running.sleep.waits
    assert max(running.sleep.waits) >= 1.0  # waited for the rate limit's reset, not a blind retry
    assert stack.event_count("guide-1", "Merged") == 1
    stack.assert_no_secrets()
