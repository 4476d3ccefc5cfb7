"""PyGithub against the GitHub emulator, used exactly as against github.com."""

from __future__ import annotations

import git
import pytest
from github import BadCredentialsException, GithubException
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def open_pr(gh: GitHubEmulatorHandle, branch: str = "atomesh/demo/run-1") -> int:
    repo = gh.seed_sample_app()
    gh.push_branch(repo, branch, {"docs/usage.md": "# Usage\n\nUpdated by an agent.\n"})
    pr = gh.client(gh.bot_token).get_repo(repo).create_pull(base="main", head=branch, title="Docs", body="Body")
    return int(pr.number)


def test_pull_request_lifecycle_with_labels_reviewers_and_check_run(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator)
    repo = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app")

    found = list(repo.get_pulls(state="open", head="demo:atomesh/demo/run-1"))
    assert [p.number for p in found] == [number]
    assert list(repo.get_pulls(state="open", head="demo:other-branch")) == []

    pr = found[0]
    pr.edit(title="Docs: usage", body="New body")
    pr.add_to_labels("atomesh", "artifact:doc")
    pr.create_review_request(reviewers=["reviewer"], team_reviewers=["docs"])
    run = repo.create_check_run(
        name="atomesh/checks",
        head_sha=pr.head.sha,
        status="completed",
        conclusion="success",
        output={"title": "2 checks passed", "summary": "all good"},
    )

    again = repo.get_pull(number)
    assert (again.title, again.body, again.state, again.merged) == ("Docs: usage", "New body", "open", False)
    assert [label.name for label in again.labels] == ["atomesh", "artifact:doc"]
    assert [u.login for u in again.requested_reviewers] == ["reviewer"]
    assert [t.slug for t in again.requested_teams] == ["docs"]
    assert again.mergeable is True
    assert again.html_url.startswith(github_emulator.web_url)
    runs = list(repo.get_commit(pr.head.sha).get_check_runs(check_name="atomesh/checks"))
    assert [(r.id, r.conclusion, r.output.title) for r in runs] == [(run.id, "success", "2 checks passed")]
    assert [f.filename for f in again.get_files()] == ["docs/usage.md"]


def test_duplicate_pull_request_is_rejected(github_emulator: GitHubEmulatorHandle) -> None:
    open_pr(github_emulator)
    repo = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app")
    with pytest.raises(GithubException) as caught:
        repo.create_pull(base="main", head="atomesh/demo/run-1", title="again", body="")
    assert caught.value.status == 422
    assert "already exists" in str(caught.value.data)


def test_reviews_line_comments_and_conversation(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator)
    as_reviewer = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    review = as_reviewer.create_review(
        body="Please expand the example.",
        event="REQUEST_CHANGES",
        comments=[{"path": "docs/usage.md", "line": 3, "body": "Show the output too."}],
    )
    as_outsider = github_emulator.client(github_emulator.outsider_token).get_repo("demo/sample-app").get_pull(number)
    as_outsider.create_issue_comment("Looks fine to me")

    pr = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app").get_pull(number)
    assert [(r.id, r.user.login, r.state, r.body) for r in pr.get_reviews()] == [
        (review.id, "reviewer", "CHANGES_REQUESTED", "Please expand the example.")
    ]
    assert [(c.path, c.line, c.body, c.pull_request_review_id) for c in pr.get_review_comments()] == [
        ("docs/usage.md", 3, "Show the output too.", review.id)
    ]
    assert [(c.user.login, c.body) for c in pr.get_issue_comments()] == [("outsider", "Looks fine to me")]
    with pytest.raises(GithubException) as own:
        pr.create_review(body="mine", event="APPROVE")
    assert own.value.status == 422


def test_a_rejected_review_leaves_none_of_its_line_comments(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator)
    as_reviewer = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    with pytest.raises(GithubException) as rejected:
        as_reviewer.create_review(
            body="Two notes.",
            event="COMMENT",
            comments=[{"path": "docs/usage.md", "line": 3, "body": "Fine."}, {"line": 1, "body": "No path."}],
        )
    assert rejected.value.status == 422
    assert list(as_reviewer.get_reviews()) == []
    assert list(as_reviewer.get_review_comments()) == []


def test_merge_is_a_real_git_merge_visible_in_a_fresh_clone(
    github_emulator: GitHubEmulatorHandle, tmp_path_factory: pytest.TempPathFactory
) -> None:
    number = open_pr(github_emulator)
    pr = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    head = pr.head.sha
    status = pr.merge(merge_method="merge", sha=head)
    assert status.merged

    merged = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app").get_pull(number)
    assert (merged.state, merged.merged, merged.merged_by.login) == ("closed", True, "reviewer")
    assert merged.merge_commit_sha == status.sha
    assert merged.merged_at is not None

    clone = git.Repo.clone_from(
        github_emulator.clone_url("demo/sample-app", github_emulator.outsider_token), tmp_path_factory.mktemp("fresh")
    )
    with clone:
        tip = clone.head.commit
        assert tip.hexsha == status.sha
        assert len(tip.parents) == 2
        assert tip.parents[1].hexsha == head
        assert (tip.tree / "docs/usage.md").data_stream.read().decode() == "# Usage\n\nUpdated by an agent.\n"

    with pytest.raises(GithubException) as again:
        pr.merge()
    assert again.value.status == 405


def test_merge_with_stale_sha_and_conflicts_is_refused(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator)
    github_emulator.push_branch("demo/sample-app", "main", {"docs/usage.md": "# Usage\n\nChanged on main.\n"})
    pr = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    assert pr.mergeable is False
    with pytest.raises(GithubException) as stale:
        pr.merge(sha="0" * 40)
    assert stale.value.status == 409
    with pytest.raises(GithubException) as conflict:
        pr.merge()
    assert conflict.value.status == 405


def test_permissions_and_authentication(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    repo = github_emulator.client(github_emulator.bot_token).get_repo(repo_name)
    assert repo.get_collaborator_permission("reviewer") == "write"
    assert repo.get_collaborator_permission("outsider") == "read"
    assert repo.get_collaborator_permission("demo") == "admin"

    as_outsider = github_emulator.client(github_emulator.outsider_token).get_repo(repo_name)
    with pytest.raises(GithubException) as forbidden:
        as_outsider.create_label("nope", "ffffff")
    assert forbidden.value.status == 403

    with pytest.raises(BadCredentialsException):
        github_emulator.client("ghp_not-a-token").get_user().login  # noqa: B018 - the request is the point


def test_pagination_follows_link_headers(github_emulator: GitHubEmulatorHandle) -> None:
    repo_name = github_emulator.seed_sample_app()
    gh = github_emulator.client(github_emulator.bot_token)
    gh.per_page = 2
    repo = gh.get_repo(repo_name)
    names = [f"label-{i}" for i in range(5)]
    for name in names:
        repo.create_label(name, "ededed")
    labels = repo.get_labels()
    assert labels.totalCount == 5
    assert [label.name for label in labels] == names


def test_git_refs_branches_and_contents(github_emulator: GitHubEmulatorHandle) -> None:
    repo = github_emulator.client(github_emulator.bot_token).get_repo(github_emulator.seed_sample_app())
    main = repo.get_branch("main")
    ref = repo.create_git_ref("refs/heads/feature", main.commit.sha)
    assert ref.object.sha == main.commit.sha
    assert sorted(b.name for b in repo.get_branches()) == ["feature", "main"]
    assert repo.get_git_ref("heads/feature").object.sha == main.commit.sha
    assert repo.get_contents("data/cities.csv").decoded_content.startswith(b"city,country,population")
    ref.delete()
    assert [b.name for b in repo.get_branches()] == ["main"]
