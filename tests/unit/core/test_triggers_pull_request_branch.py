"""Triggers that publish onto the delivery's pull request branch (`publish: pullRequestBranch`): the
planned run names the pull request, forks and default branches are refused, and a fixer's own commit
does not start it again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun, AgentSnapshot
from atomesh.api.rules import PUBLISH_NEEDS_PULL_REQUEST
from atomesh.api.triggers import EventTrigger
from atomesh.core.pod import build_run_file
from atomesh.core.triggers import EventDelivery, EventRun, decide_admission, plan_delivery
from atomesh.core.triggers_check import check_event_triggers

REPO = "demo/sample-app"
FIX = {
    "name": "fix-ci",
    "github": {"event": "check_run", "actions": ["completed"], "conclusions": ["failure"]},
    "publish": "pullRequestBranch",
    "authorization": {"permission": "none", "allowBots": True},
}


def fixer(*events: dict[str, Any]) -> tuple[str, Agent]:
    spec = {
        "purpose": "Fix failing checks.",
        "instructions": "Fix it.",
        "output": {"artifact": "code"},
        "workspace": {"repo": REPO},
        "harness": {"model": "claude-sonnet-4-5"},
        "triggers": {"events": list(events)},
    }
    return "team", Agent.model_validate({"metadata": {"name": "ci-fixer", "namespace": "team"}, "spec": spec})


def failed_check(head: str = "feature/x", *, head_repo_id: int = 1, pulls: bool = True) -> dict[str, Any]:
    def side(ref: str, repo_id: int) -> dict[str, Any]:
        return {"ref": ref, "sha": "a" * 40, "repo": {"id": repo_id, "url": "u", "name": "sample-app"}}

    pull = {"number": 12, "head": side(head, head_repo_id), "base": side("main", 1)}
    return {
        "action": "completed",
        "check_run": {
            "conclusion": "failure",
            "head_sha": "a" * 40,
            "check_suite": {"head_branch": head},
            "pull_requests": [pull] if pulls else [],
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
        "sender": {"login": "ci[bot]", "type": "Bot"},
    }


def test_a_failing_check_plans_a_run_that_pushes_to_its_pull_requests_head_branch() -> None:
    [planned] = plan_delivery(EventDelivery("check_run", "g1", failed_check()), [fixer(FIX)])
    assert planned.refusal == ""
    assert planned.error == ""
    assert planned.run is not None
    assert planned.run["spec"]["pullRequest"] == {"number": 12, "headBranch": "feature/x"}
    run = AgentRun.model_validate(planned.run)
    snapshot = AgentSnapshot(name="ci-fixer", spec=fixer(FIX)[1].spec)
    run_file = build_run_file(run, snapshot)
    assert (run_file.branch, run_file.pull_request, run_file.onto_pull_request) == ("feature/x", 12, True)


def test_a_trigger_that_opens_its_own_pull_request_plans_no_pull_request_target() -> None:
    opens = {**FIX, "publish": "newPullRequest"}
    [planned] = plan_delivery(EventDelivery("check_run", "g1", failed_check()), [fixer(opens)])
    assert planned.run is not None
    assert "pullRequest" not in planned.run["spec"]
    run_file = build_run_file(
        AgentRun.model_validate(planned.run), AgentSnapshot(name="ci-fixer", spec=fixer()[1].spec)
    )
    assert run_file.branch.startswith("atomesh/ci-fixer/")
    assert run_file.onto_pull_request is None


def test_a_pull_request_from_a_fork_is_refused_with_a_reason() -> None:
    [planned] = plan_delivery(EventDelivery("check_run", "g1", failed_check(head_repo_id=2)), [fixer(FIX)])
    assert planned.run is None
    assert planned.refusal.startswith("pull request #12 comes from a fork; atomesh pushes only to branches of ")


def test_a_pull_request_whose_head_is_the_default_branch_is_refused() -> None:
    [planned] = plan_delivery(EventDelivery("check_run", "g1", failed_check(head="main")), [fixer(FIX)])
    assert planned.run is None
    assert planned.refusal == f"the head branch of pull request #12 is {REPO}'s default branch 'main'"


def test_a_check_without_a_pull_request_starts_nothing() -> None:
    assert plan_delivery(EventDelivery("check_run", "g1", failed_check(pulls=False)), [fixer(FIX)]) == []


def test_pull_request_events_read_forks_by_repository_name() -> None:
    trigger = {**FIX, "github": {"event": "pull_request", "actions": ["labeled"]}}

    def labeled(head_repo: str | None) -> dict[str, Any]:
        head = {"ref": "fix", "sha": "b" * 40, "repo": {"full_name": head_repo} if head_repo else None}
        return {
            "action": "labeled",
            "pull_request": {"number": 3, "head": head, "base": {"ref": "main", "repo": {"full_name": REPO}}},
            "repository": {"full_name": REPO, "default_branch": "main"},
            "sender": {"login": "alice", "type": "User"},
        }

    [same] = plan_delivery(EventDelivery("pull_request", "p1", labeled(REPO)), [fixer(trigger)])
    assert same.run is not None
    assert same.run["spec"]["pullRequest"] == {"number": 3, "headBranch": "fix"}
    for head_repo in ("someone/sample-app", None):  # a fork, and a fork since deleted
        [fork] = plan_delivery(EventDelivery("pull_request", "p1", labeled(head_repo)), [fixer(trigger)])
        assert fork.run is None
        assert "comes from a fork" in fork.refusal


def test_a_check_on_a_commit_the_agent_pushed_does_not_start_it_again() -> None:
    [planned] = plan_delivery(EventDelivery("check_run", "g2", failed_check()), [fixer(FIX)])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    own = EventRun("ci-fixer-fix-ci-1", "fix-ci", "s", now, active=False, commit="a" * 40)
    decision = decide_admission(planned, [own], now)
    assert not decision.create
    assert (
        decision.message == f"the delivery is about {'a' * 12}, a commit this agent pushed: it does not fix its own fix"
    )
    other = EventRun("ci-fixer-fix-ci-1", "fix-ci", "s", now, active=False, commit="c" * 40)
    assert decide_admission(planned, [other], now).create


@pytest.mark.parametrize("event", ["issues", "issue_comment", "push"])
def test_publishing_onto_a_pull_request_needs_an_event_that_names_one(event: str) -> None:
    wrong = EventTrigger.model_validate({**FIX, "github": {"event": event}})
    webhook = EventTrigger.model_validate(
        {"name": "x", "webhook": {"secretRef": {"name": "s", "key": "k"}}, "publish": "pullRequestBranch"}
    )
    problems = check_event_triggers([wrong, webhook, EventTrigger.model_validate(FIX)], {}, ("events",))
    assert problems == [
        (("events", 0, "publish"), PUBLISH_NEEDS_PULL_REQUEST),
        (("events", 1, "publish"), PUBLISH_NEEDS_PULL_REQUEST),
    ]
