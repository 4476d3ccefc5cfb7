"""Webhook deliveries from the emulator, verified and parsed with atomesh.forge.webhook."""

from __future__ import annotations

import json

import pytest
from tests.fixtures.github import GitHubEmulatorHandle, WebhookReceiver

from atomesh.forge import webhook

pytestmark = pytest.mark.integration
SECRET = "webhook-secret"


def test_review_loop_events_are_signed_and_parse(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=list(webhook.EVENTS))
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/a", {"data/cities.csv": "city,country,population\n"})
    bot_repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    pr = bot_repo.create_pull(base="main", head="atomesh/a", title="Data", body="")
    reviewer_pr = github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name).get_pull(pr.number)
    reviewer_pr.create_review(body="Keep Berlin", event="REQUEST_CHANGES")
    reviewer_pr.create_issue_comment("and Lisbon")
    reviewer_pr.merge()

    received = receiver.wait(4)
    events = []
    for hook in received:
        assert hook.signature is not None
        assert webhook.verify(SECRET, hook.body, hook.signature)
        events.append(webhook.parse_request(hook.headers, hook.body, SECRET))

    opened, review, comment, closed = events
    assert isinstance(opened, webhook.PullRequestEvent)
    assert (opened.action, opened.number, opened.sender, opened.merged) == ("opened", pr.number, "atomesh-bot", False)
    assert (opened.repo, opened.head_branch, opened.base_branch) == (repo_name, "atomesh/a", "main")
    assert isinstance(review, webhook.ReviewEvent)
    assert (review.action, review.verdict, review.sender, review.body) == (
        "submitted",
        "CHANGES_REQUESTED",
        "reviewer",
        "Keep Berlin",
    )
    assert isinstance(comment, webhook.CommentEvent)
    assert (comment.number, comment.body, comment.on_pull_request) == (pr.number, "and Lisbon", True)
    assert isinstance(closed, webhook.PullRequestEvent)
    assert (closed.action, closed.merged, closed.merged_by, closed.state) == ("closed", True, "reviewer", "closed")
    assert closed.merge_commit_sha == github_emulator.emulator.branch_sha(repo_name, "main")
    assert len({hook.delivery for hook in received}) == 4
    assert [d.status for d in github_emulator.deliveries()] == [202, 202, 202, 202]


def test_forged_signature_fails_verification(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["pull_request"])
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/b", {"README.md": "x\n"})
    github_emulator.client(github_emulator.bot_token).get_repo(repo_name).create_pull(
        base="main", head="atomesh/b", title="x", body=""
    )
    (hook,) = receiver.wait(1)
    assert webhook.verify(SECRET, hook.body, hook.signature)
    assert not webhook.verify("another-secret", hook.body, hook.signature)
    assert not webhook.verify(SECRET, hook.body.replace(b'"opened"', b'"closed"'), hook.signature)
    assert not webhook.verify(SECRET, hook.body, None)
    with pytest.raises(PermissionError):
        webhook.parse_request(
            {**hook.headers, webhook.SIGNATURE_HEADER: webhook.sign("guess", hook.body)}, hook.body, SECRET
        )


def test_redelivery_keeps_the_delivery_id(github_emulator: GitHubEmulatorHandle) -> None:
    receiver = github_emulator.webhook_receiver(SECRET, events=["pull_request"])
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/c", {"README.md": "y\n"})
    github_emulator.client(github_emulator.bot_token).get_repo(repo_name).create_pull(
        base="main", head="atomesh/c", title="y", body=""
    )
    (first,) = receiver.wait(1)
    github_emulator.emulator.redeliver(first.delivery)
    second = receiver.wait(2)[1]
    assert (second.delivery, second.body, second.signature) == (first.delivery, first.body, first.signature)


def test_editing_through_the_issues_api_is_an_edited_pull_request(github_emulator: GitHubEmulatorHandle) -> None:
    """GitHub treats a PR's title and body edited via /issues like /pulls: `edited`, with `changes`."""
    receiver = github_emulator.webhook_receiver(SECRET, events=["pull_request"])
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/d", {"README.md": "z\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    pull = repo.create_pull(base="main", head="atomesh/d", title="before", body="")
    opened_at = pull.updated_at
    repo.get_issue(pull.number).edit(title="after")
    _, edited = receiver.wait(2)
    payload = json.loads(edited.body)
    assert (payload["action"], payload["changes"]) == ("edited", {"title": {"from": "before"}})
    assert repo.get_pull(pull.number).title == "after"
    assert repo.get_pull(pull.number).updated_at >= opened_at


def test_a_new_hook_alone_is_pinged_with_its_target(github_emulator: GitHubEmulatorHandle) -> None:
    everything = github_emulator.webhook_receiver(SECRET)  # an organization-wide hook on every event
    repo_name = github_emulator.seed_sample_app()
    repo_hooks = WebhookReceiver()
    repo_hooks.server.start()
    try:
        repo = github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name)
        github_emulator.emulator.grant(repo_name, github_emulator.reviewer, "admin")
        hook = repo.create_hook("web", {"url": repo_hooks.url, "content_type": "json", "secret": SECRET}, ["push"])
        (ping,) = repo_hooks.wait(1)
        hook.ping()  # GitHub's "Ping a repository webhook": that hook alone again
        _, again = repo_hooks.wait(2)
        github_emulator.push_branch(repo_name, "atomesh/e", {"README.md": "e\n"})
        repo.create_pull(base="main", head="atomesh/e", title="e", body="")
        (opened,) = everything.wait(1, event="pull_request")
    finally:
        repo_hooks.server.stop()
    payload = json.loads(ping.body)
    assert (ping.event, payload["hook_id"], payload["hook"]["events"]) == ("ping", hook.id, ["push"])
    assert ping.headers["X-GitHub-Hook-ID"] == str(hook.id)
    assert ping.headers["X-GitHub-Hook-Installation-Target-Type"] == "repository"
    assert ping.headers["X-GitHub-Hook-Installation-Target-ID"] == str(repo.id)
    assert webhook.verify(SECRET, ping.body, ping.signature)
    assert (again.event, json.loads(again.body)["hook_id"]) == ("ping", hook.id)
    assert again.delivery != ping.delivery
    assert "ping" not in [hook.event for hook in everything.received]
    assert opened.headers["X-GitHub-Hook-Installation-Target-Type"] == "organization"
    assert opened.headers["X-GitHub-Hook-Installation-Target-ID"] == str(repo.owner.id)
    assert repo.get_hook(hook.id).last_response.status == "active"
    # Newest first: the push it subscribed to, then its two pings.
    deliveries = [(d.event, d.status_code) for d in repo.get_hook_deliveries(hook.id)]
    assert deliveries == [("push", 202), ("ping", 202), ("ping", 202)]
