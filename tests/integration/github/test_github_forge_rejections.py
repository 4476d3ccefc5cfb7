"""GitHubForge when GitHub refuses: the reason reaches the error, and a refused review request
does not cost the publish or the reviewers who are collaborators."""

from __future__ import annotations

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.forge.github import GitHubForge, GitHubForgeError
from atomesh.forge.protocol import PullRequestRequest

pytestmark = pytest.mark.integration
REPO = "demo/sample-app"
BRANCH = "atomesh/docs-writer/run-1"


def request(reviewers: list[str], base: str = "main", head: str = BRANCH) -> PullRequestRequest:
    return PullRequestRequest(
        repo=REPO,
        head_branch=head,
        base_branch=base,
        title="docs: usage",
        body="Body",
        labels=[],
        reviewers=reviewers,
        team_reviewers=["docs"],
        draft=False,
    )


@pytest.fixture
def forge(github_emulator: GitHubEmulatorHandle) -> GitHubForge:
    github_emulator.seed_sample_app()
    github_emulator.push_branch(REPO, BRANCH, {"docs/usage.md": "# Usage\n\nNew.\n"})
    return GitHubForge(github_emulator.url, github_emulator.bot_token, sleep=lambda _: None)


def test_a_reviewer_who_is_not_a_collaborator_leaves_the_others_requested(
    github_emulator: GitHubEmulatorHandle, forge: GitHubForge
) -> None:
    github_emulator.emulator.add_user("stranger")
    ref = forge.open_or_update_pull_request(request(["stranger", "reviewer"]))

    pr = github_emulator.client(github_emulator.bot_token).get_repo(REPO).get_pull(ref.number)
    assert pr.state == "open"
    assert [u.login for u in pr.requested_reviewers] == ["reviewer"]
    assert [t.slug for t in pr.requested_teams] == ["docs"]
    # Publishing again asks only for who is still missing, and still does not fail.
    assert forge.open_or_update_pull_request(request(["stranger", "reviewer"])).number == ref.number


def test_a_refused_pull_request_names_githubs_reason(forge: GitHubForge) -> None:
    with pytest.raises(GitHubForgeError) as missing_base:
        forge.open_or_update_pull_request(request(["reviewer"], base="no-such-base"))
    assert missing_base.value.status == 422
    assert missing_base.value.message.endswith("rejected the request: Validation Failed: PullRequest base invalid")

    with pytest.raises(GitHubForgeError) as level:
        forge.open_or_update_pull_request(request(["reviewer"], head="main", base="main"))
    assert level.value.message.endswith("Validation Failed: No commits between main and main")
