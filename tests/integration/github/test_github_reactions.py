"""Reactions to issue comments through PyGithub, as a bot acknowledges a slash command: one comment
by id, a reaction (201; the same one again 200), an unknown reaction type (422), and the rollup every
comment carries."""

from __future__ import annotations

import json
import urllib.request

import pytest
from github import GithubException
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def raw_reaction(github: GitHubEmulatorHandle, repo: str, comment_id: int, content: str) -> tuple[int, object]:
    request = urllib.request.Request(
        f"{github.url}/repos/{repo}/issues/comments/{comment_id}/reactions",
        data=json.dumps({"content": content}).encode(),
        method="POST",
        headers={"Authorization": f"token {github.bot_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def test_reacting_to_an_issue_comment(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    reporter = github_emulator.client(github_emulator.reviewer_token).get_repo(repo_name)
    issue = reporter.create_issue("Slow start")
    posted = issue.create_comment("/triage")

    bot_issue = github_emulator.client(github_emulator.bot_token).get_repo(repo_name).get_issue(issue.number)
    comment = bot_issue.get_comment(posted.id)
    assert (comment.id, comment.body, comment.user.login) == (posted.id, "/triage", github_emulator.reviewer)

    eyes = comment.create_reaction("eyes")
    again = comment.create_reaction("eyes")
    assert (eyes.content, eyes.user.login) == ("eyes", github_emulator.bot)
    assert again.id == eyes.id
    status, _ = raw_reaction(github_emulator, repo_name, posted.id, "eyes")
    assert status == 200, "the same reaction again is answered with the first, not created"
    reporter.get_issue(issue.number).get_comment(posted.id).create_reaction("+1")

    rollup = reporter.get_issue(issue.number).get_comment(posted.id).raw_data["reactions"]
    assert (rollup["total_count"], rollup["eyes"], rollup["+1"], rollup["-1"]) == (2, 1, 1, 0)

    with pytest.raises(GithubException) as refused:
        comment.create_reaction("thumbs-up")
    assert refused.value.status == 422
    with pytest.raises(GithubException) as missing:
        bot_issue.get_comment(posted.id + 999)
    assert missing.value.status == 404
