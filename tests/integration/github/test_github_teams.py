"""Team membership through GitHubForge against the GitHub emulator (`GET /orgs/{org}/teams/{team_slug}/
memberships/{username}`, validated against GitHub's OpenAPI description by the contract plugin), and the
branch protection flag publish reads before pushing to someone's pull request."""

from __future__ import annotations

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.forge.errors import NotFound
from atomesh.forge.github import GitHubForge, GitHubForgeError

pytestmark = pytest.mark.integration


def test_team_membership_is_active_pending_or_none(github_emulator: GitHubEmulatorHandle) -> None:
    github_emulator.seed_sample_app()
    github_emulator.emulator.add_team("demo", "triage", {"ada": "active", "bob": "pending"})
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token, sleep=lambda _: None)

    assert forge.team_membership("demo", "triage", "ada") == "active"
    assert forge.team_membership("demo", "Triage", "ADA") == "active"  # slugs and logins are case-insensitive
    assert forge.team_membership("demo", "triage", "bob") == "pending"
    assert forge.team_membership("demo", "triage", github_emulator.outsider) is None
    assert forge.team_membership("demo", "no-such-team", "ada") is None

    anonymous = GitHubForge(github_emulator.url, "ghp_not-a-token", sleep=lambda _: None)
    with pytest.raises(GitHubForgeError, match="token was rejected"):
        anonymous.team_membership("demo", "triage", "ada")


def test_branch_protection_is_read_from_the_branch(github_emulator: GitHubEmulatorHandle) -> None:
    slug = github_emulator.seed_sample_app()
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token, sleep=lambda _: None)
    assert forge.branch_protected(slug, "main") is False
    with pytest.raises(NotFound):
        forge.branch_protected(slug, "no-such-branch")
