"""What every REST response of the emulator carries, as on GitHub: request ids, the primary rate
limit (5000 an hour for a user, 60 for an anonymous client), and `Location` on what a 201 created."""

from __future__ import annotations

import pytest
from github import Auth, Github, RateLimitExceededException
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def test_every_response_counts_against_the_users_hourly_limit(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    gh = github_emulator.client(github_emulator.bot_token)
    first = gh.get_repo(repo_name)
    remaining, limit = gh.rate_limiting
    second = gh.get_repo(repo_name)
    assert limit == 5000
    assert gh.rate_limiting == (remaining - 1, 5000)
    assert gh.rate_limiting_resettime > 0
    ids = {first.raw_headers["x-github-request-id"], second.raw_headers["x-github-request-id"]}
    assert len(ids) == 2
    # Another user has a window of their own; /rate_limit reports without counting itself.
    other = github_emulator.client(github_emulator.reviewer_token)
    assert other.get_rate_limit().resources.core.remaining == 5000
    assert gh.get_rate_limit().resources.core.used == 5000 - (remaining - 1)


def test_an_anonymous_client_gets_60_requests_then_githubs_403(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    anonymous = Github(base_url=github_emulator.url, retry=None, seconds_between_requests=None)
    for _ in range(60):
        anonymous.get_repo(repo_name)
    assert anonymous.rate_limiting == (0, 60)
    with pytest.raises(RateLimitExceededException) as raised:
        anonymous.get_repo(repo_name)
    assert raised.value.status == 403
    assert raised.value.data["message"].startswith("API rate limit exceeded for ")
    assert raised.value.headers is not None
    assert raised.value.headers["x-ratelimit-remaining"] == "0"
    # A token has its own, larger window.
    assert github_emulator.client(github_emulator.bot_token).get_repo(repo_name).name == "sample-app"


def test_a_conditional_request_answered_304_is_free(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    gh = github_emulator.client(github_emulator.bot_token)
    repo = gh.get_repo(repo_name)
    before = gh.rate_limiting[0]
    assert repo.update() is False  # PyGithub sends If-None-Match; unchanged means 304
    assert gh.rate_limiting[0] == before


def test_created_things_say_where_they_live(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo_name, "atomesh/location", {"README.md": "here\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    pull = repo.create_pull(base="main", head="atomesh/location", title="Here", body="")
    label = repo.create_label("where", "0e8a16")
    comment = pull.create_issue_comment("here")
    assert pull.raw_headers["location"] == pull.url
    assert label.raw_headers["location"] == label.url
    assert comment.raw_headers["location"] == comment.url


def test_author_association_follows_the_relationship(github_emulator: GitHubEmulatorHandle) -> None:
    emulator = github_emulator.emulator
    stranger_token = emulator.add_user("stranger")
    emulator.create_repo("reviewer/own", {"README.md": "mine\n"})
    emulator.grant("reviewer/own", github_emulator.bot, "write")
    github_emulator.push_branch("reviewer/own", "atomesh/assoc", {"README.md": "ours\n"})
    pull = (
        github_emulator.client(github_emulator.bot_token)
        .get_repo("reviewer/own")
        .create_pull(base="main", head="atomesh/assoc", title="Ours", body="")
    )
    by_owner = github_emulator.client(github_emulator.reviewer_token).get_repo("reviewer/own").get_pull(pull.number)
    owner_comment = by_owner.create_issue_comment("as the owner")
    stranger = Github(base_url=github_emulator.url, auth=Auth.Token(stranger_token), retry=None)
    stranger_comment = stranger.get_repo("reviewer/own").get_issue(pull.number).create_comment("as nobody")
    assert pull.raw_data["author_association"] == "COLLABORATOR"
    assert owner_comment.raw_data["author_association"] == "OWNER"
    assert stranger_comment.raw_data["author_association"] == "NONE"
