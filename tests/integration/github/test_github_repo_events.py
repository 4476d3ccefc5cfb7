"""The GitHub emulator's repository events API, as the operator's polling fallback reads it through
GitHubForge: the events webhooks also report, in the events API's own shapes, newest first; ETags and
304s; and the same run identity for a delivery seen by webhook and by poll."""

from __future__ import annotations

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.core.triggers import EventDelivery
from atomesh.core.triggers_polling import delivery_payload
from atomesh.forge.github import GitHubForge

pytestmark = pytest.mark.integration


def test_polled_events_ask_for_the_same_runs_as_their_webhooks(github_emulator: GitHubEmulatorHandle) -> None:
    github_emulator.webhook_receiver("secret", ["issues", "issue_comment", "pull_request", "push"])
    slug = github_emulator.seed_sample_app()
    head = github_emulator.push_branch(slug, "feature/polled", {"README.md": "polled\n"})
    repo = github_emulator.client(github_emulator.reviewer_token).get_repo(slug)
    issue = repo.create_issue(title="Polled")
    issue.create_comment("/atomesh issue-triage")
    repo.create_pull(base="main", head="feature/polled", title="Polled", body="")
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token, sleep=lambda _: None)

    page = forge.repository_events(slug, None)
    assert page.status == 200
    assert page.headers["x-poll-interval"] == "60"
    types = [event["type"] for event in page.data]
    assert types == ["PullRequestEvent", "IssueCommentEvent", "IssuesEvent", "PushEvent"]
    push = page.data[-1]["payload"]
    assert (push["ref"], push["head"]) == ("refs/heads/feature/polled", head)
    assert "commits" not in push  # the events API's push carries no commits (and so no paths)
    assert set(page.data[0]["payload"]["pull_request"]) == {"id", "number", "url", "head", "base"}
    unchanged = forge.repository_events(slug, page.etag)
    assert (unchanged.status, unchanged.headers["x-poll-interval"]) == (304, "60")

    hooks = github_emulator.wait_for_deliveries(4)
    by_webhook = sorted(EventDelivery(d.event, d.id, d.payload).subject_key for d in hooks)
    polled = [delivery_payload(event) for event in page.data]
    by_poll = sorted(EventDelivery(*found).subject_key for found in polled if found is not None)
    assert by_poll == by_webhook
    assert len(set(by_poll)) == 4
