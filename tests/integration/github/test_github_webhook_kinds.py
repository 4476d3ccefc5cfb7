"""The webhooks triggers need, each emitted when the matching REST call or git push happens (the
contract check holds every one of them to GitHub's webhook schema for its event and action)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.fixtures.github import GitHubEmulatorHandle, ReceivedHook

pytestmark = pytest.mark.integration
SECRET = "kinds-secret"


def _kinds(received: list[ReceivedHook]) -> list[tuple[str, Any]]:
    return [(hook.event, json.loads(hook.body).get("action")) for hook in received]


def test_a_push_of_a_new_branch_is_create_then_push(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["push", "create", "delete"])
    repo_name = github_emulator.seed_sample_app()
    sha = github_emulator.push_branch(repo_name, "atomesh/kinds", {"notes.md": "one\n"}, message="Add notes")
    create, push = receiver.wait(2)
    created = json.loads(create.body)
    assert (create.event, created["ref"], created["ref_type"], created["master_branch"]) == (
        "create",
        "atomesh/kinds",
        "branch",
        "main",
    )
    pushed = json.loads(push.body)
    assert (push.event, pushed["ref"], pushed["after"], pushed["created"]) == (
        "push",
        "refs/heads/atomesh/kinds",
        sha,
        True,
    )
    assert [commit["id"] for commit in pushed["commits"]] == [sha]  # only what main did not have
    assert pushed["head_commit"]["message"].strip() == "Add notes"
    assert pushed["head_commit"]["added"] == ["notes.md"]
    assert pushed["pusher"]["name"] == github_emulator.bot
    github_emulator.client(github_emulator.bot_token).get_repo(repo_name).get_git_ref("heads/atomesh/kinds").delete()
    *_, push_deleted, deleted = receiver.wait(4)
    assert (push_deleted.event, json.loads(push_deleted.body)["deleted"]) == ("push", True)
    assert (deleted.event, json.loads(deleted.body)["ref"]) == ("delete", "atomesh/kinds")


def test_a_merge_pushes_the_base_branch(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["push"])
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/merge", {"README.md": "merged\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    pull = repo.create_pull(base="main", head="atomesh/merge", title="Merge", body="")
    github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name).get_pull(pull.number).merge()
    _, merged = receiver.wait(2)
    payload = json.loads(merged.body)
    assert (payload["ref"], payload["after"]) == (
        "refs/heads/main",
        github_emulator.emulator.branch_sha(repo_name, "main"),
    )
    assert payload["pusher"]["name"] == github_emulator.reviewer


def test_labels_and_review_requests_on_a_pull_request(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["pull_request", "label"])
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/labels", {"README.md": "labels\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    repo.create_label("atomesh", "0e8a16", "made by atomesh")
    pull = repo.create_pull(base="main", head="atomesh/labels", title="Labels", body="")
    pull.add_to_labels("atomesh")
    pull.create_review_request(reviewers=[github_emulator.reviewer])
    pull.remove_from_labels("atomesh")
    pull.delete_review_request(reviewers=[github_emulator.reviewer])
    received = receiver.wait(6)
    assert _kinds(received) == [
        ("label", "created"),
        ("pull_request", "opened"),
        ("pull_request", "labeled"),
        ("pull_request", "review_requested"),
        ("pull_request", "unlabeled"),
        ("pull_request", "review_request_removed"),
    ]
    labeled = json.loads(received[2].body)
    requested = json.loads(received[3].body)
    assert labeled["label"]["name"] == "atomesh"
    assert labeled["pull_request"]["labels"][0]["name"] == "atomesh"
    assert requested["requested_reviewer"]["login"] == github_emulator.reviewer


def test_review_comments_checks_and_statuses(github_emulator: GitHubEmulatorHandle) -> None:
    kinds = ["pull_request_review_comment", "check_run", "check_suite", "status"]
    receiver = github_emulator.webhook_receiver(SECRET, events=kinds)
    repo_name = github_emulator.seed_sample_app()
    sha = github_emulator.push_branch(repo_name, "atomesh/checks", {"README.md": "checks\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    pull = repo.create_pull(base="main", head="atomesh/checks", title="Checks", body="")
    run = repo.create_check_run("atomesh/tests", sha, status="in_progress")
    run.edit(conclusion="success", output={"title": "green", "summary": "all good"})
    repo.get_commit(sha).create_status("success", context="atomesh/lint", description="clean")
    reviewer_pull = github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name).get_pull(pull.number)
    reviewer_pull.create_review(
        body="one note", event="COMMENT", comments=[{"path": "README.md", "line": 1, "body": "Why?"}]
    )
    received = receiver.wait(5)
    assert _kinds(received) == [
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("status", None),
        ("pull_request_review_comment", "created"),
    ]
    completed, suite, status, comment = (json.loads(hook.body) for hook in received[1:])
    assert completed["check_run"]["conclusion"] == "success"
    assert completed["check_run"]["pull_requests"][0]["number"] == pull.number
    # A webhook shows the run's suite as GitHub does (simple-check-suite), not just its id.
    run_suite = completed["check_run"]["check_suite"]
    assert (run_suite["head_branch"], run_suite["status"], run_suite["conclusion"]) == (
        "atomesh/checks",
        "completed",
        "success",
    )
    assert run_suite["id"] == suite["check_suite"]["id"]
    assert (suite["check_suite"]["conclusion"], suite["check_suite"]["head_branch"]) == ("success", "atomesh/checks")
    assert (status["sha"], status["state"], status["branches"][0]["name"]) == (sha, "success", "atomesh/checks")
    assert (comment["comment"]["body"], comment["comment"]["path"]) == ("Why?", "README.md")


def test_an_issues_life_through_the_issues_api(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["issues", "issue_comment"])
    repo_name = github_emulator.seed_sample_app()
    maintainer = github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name)
    maintainer.create_label("triage", "d73a4a")
    reporter = github_emulator.client(github_emulator.outsider_token).get_repo(repo_name)
    issue = reporter.create_issue("Greeting is rude", body="It says 'go away'.")
    assert issue.raw_headers["location"] == issue.url
    issue.create_comment("Still rude today.")
    triaged = maintainer.get_issue(issue.number)
    triaged.add_to_labels("triage")
    triaged.edit(title="Greeting is impolite")
    triaged.edit(state="closed")
    triaged.edit(state="open")
    received = receiver.wait(6)
    assert _kinds(received) == [
        ("issues", "opened"),
        ("issue_comment", "created"),
        ("issues", "labeled"),
        ("issues", "edited"),
        ("issues", "closed"),
        ("issues", "reopened"),
    ]
    opened, commented, labeled, edited, closed, _ = (json.loads(hook.body) for hook in received)
    assert (opened["issue"]["user"]["login"], opened["issue"]["author_association"]) == (
        github_emulator.outsider,
        "COLLABORATOR",
    )
    assert "pull_request" not in commented["issue"]
    assert commented["comment"]["body"] == "Still rude today."
    assert labeled["label"]["name"] == "triage"
    assert edited["changes"] == {"title": {"from": "Greeting is rude"}}
    assert (closed["issue"]["state"], closed["issue"]["state_reason"]) == ("closed", "completed")
    listed = [(i.number, i.title, i.state) for i in maintainer.get_issues(state="all")]
    assert listed == [(issue.number, "Greeting is impolite", "open")]
