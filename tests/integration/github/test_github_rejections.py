"""What GitHub refuses, the emulator refuses, with GitHub's status and body, seen through PyGithub.

Each body is also held to the operation's declared response (`validation-error`,
`validation-error-simple` or `basic-error`) by the contract plugin; these tests pin the message
and `errors` that clients read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from github import GithubException
from github.PullRequest import PullRequest
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration
REPO = "demo/sample-app"
BRANCH = "atomesh/demo/run-1"
PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls"


def refused(call: Callable[[], object]) -> tuple[int, dict[str, Any]]:
    with pytest.raises(GithubException) as caught:
        call()
    assert isinstance(caught.value.data, dict)
    return caught.value.status, caught.value.data


def open_pr(gh: GitHubEmulatorHandle) -> PullRequest:
    gh.seed_sample_app()
    gh.push_branch(REPO, BRANCH, {"docs/usage.md": "# Usage\n\nUpdated by an agent.\n"})
    return gh.client(gh.bot_token).get_repo(REPO).create_pull(base="main", head=BRANCH, title="Docs", body="Body")


def test_creating_a_pull_request_is_refused_as_github_refuses_it(github_emulator: GitHubEmulatorHandle) -> None:
    open_pr(github_emulator)
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)

    status, body = refused(lambda: repo.create_pull(base="main", head=BRANCH, title="Again", body=""))
    assert (status, body["message"], body["status"]) == (422, "Validation Failed", "422")
    assert body["errors"] == [
        {"resource": "PullRequest", "code": "custom", "message": f"A pull request already exists for demo:{BRANCH}."}
    ]
    assert body["documentation_url"] == f"{PULLS_DOCS}#create-a-pull-request"

    status, body = refused(lambda: repo.create_pull(base="main", head="no-such-branch", title="T", body=""))
    assert (status, body["errors"]) == (422, [{"resource": "PullRequest", "code": "invalid", "field": "head"}])
    status, body = refused(lambda: repo.create_pull(base="no-such-base", head=BRANCH, title="T", body=""))
    assert (status, body["errors"]) == (422, [{"resource": "PullRequest", "code": "invalid", "field": "base"}])

    repo.create_git_ref("refs/heads/level-with-main", repo.get_branch("main").commit.sha)
    status, body = refused(lambda: repo.create_pull(base="main", head="level-with-main", title="T", body=""))
    assert (status, body["message"]) == (422, "Validation Failed")
    assert body["errors"] == [
        {"resource": "PullRequest", "code": "custom", "message": "No commits between main and level-with-main"}
    ]
    assert [p.number for p in repo.get_pulls(state="all")] == [1]


def test_review_requests_only_go_to_collaborators_other_than_the_author(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    pr = open_pr(github_emulator)
    github_emulator.emulator.add_user("stranger")
    docs = "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"

    status, body = refused(lambda: pr.create_review_request(reviewers=["reviewer", "stranger"]))
    assert (status, body) == (
        422,
        {
            "message": "Reviews may only be requested from collaborators. One or more of the users or teams you "
            f"specified is not a collaborator of the {REPO} repository.",
            "documentation_url": docs,
            "status": "422",
        },
    )
    status, body = refused(lambda: pr.create_review_request(reviewers=[github_emulator.bot]))
    assert (status, body["message"], "errors" in body) == (
        422,
        "Review cannot be requested from pull request author.",
        False,
    )
    # A refused request adds no one, not even the collaborator named with the stranger.
    assert [u.login for u in pr.get_review_requests()[0]] == []

    pr.create_review_request(reviewers=["reviewer", "outsider"])
    assert [u.login for u in pr.get_review_requests()[0]] == ["reviewer", "outsider"]


def test_reviews_the_author_or_an_empty_body_cannot_give(github_emulator: GitHubEmulatorHandle) -> None:
    pr = open_pr(github_emulator)
    as_reviewer = github_emulator.client(github_emulator.reviewer_token).get_repo(REPO).get_pull(pr.number)
    docs = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"

    status, body = refused(lambda: pr.create_review(body="Looks good to me", event="APPROVE"))
    assert (status, body) == (
        422,
        {
            "message": "Unprocessable Entity",
            "errors": ["Can not approve your own pull request"],
            "documentation_url": docs,
            "status": "422",
        },
    )
    status, body = refused(lambda: pr.create_review(body="Needs work", event="REQUEST_CHANGES"))
    assert (status, body["errors"]) == (422, ["Can not request changes on your own pull request"])
    for event in ("REQUEST_CHANGES", "COMMENT"):
        status, body = refused(lambda event=event: as_reviewer.create_review(body="", event=event))
        assert (status, body["message"], body["errors"]) == (
            422,
            "Unprocessable Entity",
            ["Body is required for this event"],
        )
    status, body = refused(
        lambda: as_reviewer.create_review(
            body="Two notes",
            event="COMMENT",
            comments=[
                {"path": "docs/usage.md", "line": 3, "body": "Fine."},
                {"path": "README.md", "line": 1, "body": "Not in this pull request."},
            ],
        )
    )
    assert (status, body["errors"]) == (
        422,
        ["Pull request review thread path is invalid and Pull request review thread diff hunk can't be blank"],
    )
    assert list(as_reviewer.get_reviews()) == []
    assert list(as_reviewer.get_review_comments()) == []

    as_reviewer.create_review(event="APPROVE")
    assert [r.state for r in as_reviewer.get_reviews()] == ["APPROVED"]


def test_merges_that_cannot_go_through(github_emulator: GitHubEmulatorHandle) -> None:
    pr = open_pr(github_emulator)
    as_reviewer = github_emulator.client(github_emulator.reviewer_token).get_repo(REPO).get_pull(pr.number)
    docs = f"{PULLS_DOCS}#merge-a-pull-request"

    status, body = refused(lambda: as_reviewer.merge(sha="0" * 40))
    assert (status, body) == (
        409,
        {
            "message": "Head branch was modified. Review and try the merge again.",
            "documentation_url": docs,
            "status": "409",
        },
    )
    as_reviewer.merge(sha=pr.head.sha)
    status, body = refused(lambda: as_reviewer.merge())
    assert (status, body) == (
        405,
        {"message": "Pull Request is not mergeable", "documentation_url": docs, "status": "405"},
    )

    github_emulator.push_branch(REPO, "draft-work", {"docs/draft.md": "# Draft\n"})
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)
    draft = repo.create_pull(base="main", head="draft-work", title="WIP", body="", draft=True)
    status, body = refused(lambda: draft.merge())
    assert (status, body["message"]) == (405, "Pull Request is still a draft")
    assert repo.get_pull(draft.number).merged is False


def test_refs_labels_and_comments_refused(github_emulator: GitHubEmulatorHandle) -> None:
    pr = open_pr(github_emulator)
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)
    main = repo.get_branch("main").commit.sha

    status, body = refused(lambda: repo.create_git_ref(f"refs/heads/{BRANCH}", main))
    assert (status, body) == (
        422,
        {
            "message": "Reference already exists",
            "documentation_url": "https://docs.github.com/rest/git/refs#create-a-reference",
            "status": "422",
        },
    )

    status, body = refused(lambda: repo.create_label("bad colour", "not-a-colour"))
    assert (status, body["message"], body["errors"]) == (
        422,
        "Validation Failed",
        [{"resource": "Label", "code": "invalid", "field": "color"}],
    )
    repo.create_label("needs-review", "0e8a16")
    status, body = refused(lambda: repo.create_label("needs-review", "d73a4a"))
    assert (status, body["errors"]) == (422, [{"resource": "Label", "code": "already_exists", "field": "name"}])

    status, body = refused(lambda: pr.remove_from_labels("needs-review"))
    assert (status, body["message"], body["status"]) == (404, "Label does not exist", "404")

    status, body = refused(lambda: pr.create_issue_comment(" "))
    assert (status, body["errors"]) == (422, [{"resource": "IssueComment", "code": "missing_field", "field": "body"}])
    status, body = refused(lambda: repo.create_issue(title=""))
    assert (status, body["errors"]) == (422, [{"resource": "Issue", "code": "missing_field", "field": "title"}])


def test_a_second_hook_for_the_same_url_and_a_taken_repository_name(github_emulator: GitHubEmulatorHandle) -> None:
    github_emulator.seed_sample_app()
    as_owner = github_emulator.client(github_emulator.emulator.add_user("owner-admin"))
    github_emulator.emulator.grant(REPO, "owner-admin", "admin")
    repo = as_owner.get_repo(REPO)
    repo.create_hook("web", {"url": "http://127.0.0.1:9/hook", "content_type": "json"}, ["push"])

    status, body = refused(
        lambda: repo.create_hook("web", {"url": "http://127.0.0.1:9/hook", "content_type": "json"}, ["issues"])
    )
    assert (status, body["message"], body["errors"]) == (
        422,
        "Validation Failed",
        [{"resource": "Hook", "code": "custom", "message": "Hook already exists on this repository"}],
    )
    assert len(list(repo.get_hooks())) == 1

    status, body = refused(lambda: as_owner.get_organization("demo").create_repo("sample-app"))
    assert (status, body["message"], body["errors"]) == (
        422,
        "Repository creation failed.",
        [
            {
                "resource": "Repository",
                "code": "custom",
                "field": "name",
                "message": "name already exists on this account",
            }
        ],
    )
