"""GitHubForge against the GitHub emulator: idempotent publishing, reviews, merges, polling and faults."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.api import constants as c
from atomesh.forge.github import AppCredentials, GitHubForge, GitHubForgeError, RetryPolicy, standard_labels
from atomesh.forge.protocol import Forge, PullRequestRequest

pytestmark = pytest.mark.integration
BRANCH = "atomesh/docs-writer/run-1"


def forge_for(gh: GitHubEmulatorHandle, token: str, sleeps: list[float] | None = None, **kwargs: object) -> GitHubForge:
    record = sleeps if sleeps is not None else []
    return GitHubForge(gh.url, token, sleep=record.append, **kwargs)  # type: ignore[arg-type]


def request(title: str = "docs: usage", body: str = "Body v1", draft: bool = False) -> PullRequestRequest:
    return PullRequestRequest(
        repo="demo/sample-app",
        head_branch=BRANCH,
        base_branch="main",
        title=title,
        body=body,
        labels=standard_labels("doc", "docs-writer", ["needs-review"]),
        reviewers=["reviewer", "atomesh-bot"],
        team_reviewers=["docs"],
        draft=draft,
    )


@pytest.fixture
def published(github_emulator: GitHubEmulatorHandle) -> GitHubEmulatorHandle:
    github_emulator.seed_sample_app()
    github_emulator.push_branch("demo/sample-app", BRANCH, {"docs/usage.md": "# Usage\n\nNew.\n"})
    return github_emulator


def test_open_or_update_is_idempotent(published: GitHubEmulatorHandle) -> None:
    forge: Forge = forge_for(published, published.bot_token)
    first = forge.open_or_update_pull_request(request(draft=True))
    second = forge.open_or_update_pull_request(request(title="docs: usage (revised)", body="Body v2"))

    assert second.number == first.number
    assert (first.head_branch, first.base_branch, first.state, first.draft) == (BRANCH, "main", "open", True)
    assert first.url == f"{published.web_url}/demo/sample-app/pull/{first.number}"
    repo = published.client(published.bot_token).get_repo("demo/sample-app")
    assert [p.number for p in repo.get_pulls(state="all")] == [first.number]
    pr = repo.get_pull(first.number)
    assert (pr.title, pr.body) == ("docs: usage (revised)", "Body v2")
    assert [label.name for label in pr.labels] == ["atomesh", "artifact:doc", "agent:docs-writer", "needs-review"]
    assert {label.name: label.color for label in repo.get_labels()}["atomesh"] == "5319e7"
    # The author is never asked to review their own PR; asking twice does not duplicate.
    assert [u.login for u in pr.requested_reviewers] == ["reviewer"]
    assert [t.slug for t in pr.requested_teams] == ["docs"]


def test_reopens_a_new_pr_after_the_old_one_was_closed(published: GitHubEmulatorHandle) -> None:
    forge = forge_for(published, published.bot_token)
    first = forge.open_or_update_pull_request(request())
    closed = forge.close_pull_request("demo/sample-app", first.number)
    assert (closed.state, closed.merged, closed.closed_by) == ("closed", False, "atomesh-bot")
    assert forge.find_pull_request("demo/sample-app", BRANCH) is None
    second = forge.open_or_update_pull_request(request())
    assert second.number != first.number
    assert second.state == "open"


def test_reviews_comments_permission_check_runs_and_merge(published: GitHubEmulatorHandle) -> None:
    bot = forge_for(published, published.bot_token)
    ref = bot.open_or_update_pull_request(request())
    reviewer_pr = published.client(published.reviewer_token).get_repo("demo/sample-app").get_pull(ref.number)
    reviewer_pr.create_review(
        body="Needs an example",
        event="REQUEST_CHANGES",
        comments=[{"path": "docs/usage.md", "line": 3, "body": "here"}],
    )
    forge_for(published, published.outsider_token).comment("demo/sample-app", ref.number, "drive-by remark")

    feedback = bot.list_reviews("demo/sample-app", ref.number)
    assert [(f.author, f.verdict, f.path, f.line, f.body) for f in feedback] == [
        ("reviewer", "CHANGES_REQUESTED", None, None, "Needs an example"),
        ("reviewer", None, "docs/usage.md", 3, "here"),
        ("outsider", None, None, None, "drive-by remark"),
    ]
    assert [bot.permission("demo/sample-app", f.author) for f in feedback] == ["write", "write", "read"]
    assert bot.permission("demo/sample-app", "nobody-at-all") == "none"

    bot.create_check_run("demo/sample-app", ref.head_sha, "atomesh", "failure", "1 check failed", "pytest failed")
    bot.create_check_run("demo/sample-app", ref.head_sha, "atomesh", "success", "checks passed", "all green")
    assert bot.check_runs("demo/sample-app", ref.head_sha) == {"atomesh": "success"}
    runs = published.client(published.bot_token).get_repo("demo/sample-app").get_commit(ref.head_sha).get_check_runs()
    assert runs.totalCount == 1

    reviewer = forge_for(published, published.reviewer_token)
    sha = reviewer.merge("demo/sample-app", ref.number)
    assert reviewer.merge("demo/sample-app", ref.number) == sha
    merged = bot.get_pull_request("demo/sample-app", ref.number)
    assert (merged.state, merged.merged, merged.merged_by, merged.merge_commit_sha) == ("closed", True, "reviewer", sha)
    assert merged.merged_at is not None
    assert merged.merged_at.endswith("Z")
    assert published.emulator.branch_sha("demo/sample-app", "main") == sha


def test_conditional_polling_returns_none_when_unchanged(published: GitHubEmulatorHandle) -> None:
    forge = forge_for(published, published.bot_token)
    ref = forge.open_or_update_pull_request(request())
    first, etag = forge.get_pull_request_if_changed("demo/sample-app", ref.number, None)
    assert first is not None
    assert first.number == ref.number
    assert etag

    unchanged, same = forge.get_pull_request_if_changed("demo/sample-app", ref.number, etag)
    assert (unchanged, same) == (None, etag)

    forge_for(published, published.reviewer_token).merge("demo/sample-app", ref.number)
    changed, newer = forge.get_pull_request_if_changed("demo/sample-app", ref.number, etag)
    assert changed is not None
    assert changed.merged
    assert newer != etag


def test_server_errors_are_retried_with_exponential_backoff(published: GitHubEmulatorHandle) -> None:
    sleeps: list[float] = []
    forge = forge_for(published, published.bot_token, sleeps)
    published.faults.fail_next(3, status=502)
    ref = forge.open_or_update_pull_request(request())
    assert ref.state == "open"
    assert sleeps == [1.0, 2.0, 4.0]
    published.faults.fail_next(1, status=503, method="POST")
    forge.comment("demo/sample-app", ref.number, "after a 503")
    assert sleeps[3:] == [1.0]


def test_primary_rate_limit_waits_until_reset(published: GitHubEmulatorHandle) -> None:
    sleeps: list[float] = []
    clock = iter([9_990.0, 10_005.0])
    forge = forge_for(published, published.bot_token, sleeps, clock=lambda: next(clock))
    published.faults.rate_limit_primary(1, reset_at=10_000, status=403)
    published.faults.rate_limit_primary(1, reset_at=10_000, status=429)
    assert forge.open_or_update_pull_request(request()).state == "open"
    # Until x-ratelimit-reset plus a second of margin; a reset already past costs only the margin.
    assert sleeps == [11.0, 1.0]


def test_primary_rate_limit_wait_is_capped(published: GitHubEmulatorHandle) -> None:
    sleeps: list[float] = []
    forge = forge_for(published, published.bot_token, sleeps, clock=lambda: 0.0, retry=RetryPolicy(max_wait=120.0))
    published.faults.rate_limit_primary(1, reset_at=3_600)
    assert forge.open_or_update_pull_request(request()).state == "open"
    assert sleeps == [120.0]


def test_secondary_rate_limit_honours_retry_after(published: GitHubEmulatorHandle) -> None:
    sleeps: list[float] = []
    forge = forge_for(published, published.bot_token, sleeps)
    published.faults.rate_limit_secondary(2, retry_after=7)
    assert forge.open_or_update_pull_request(request()).state == "open"
    assert sleeps == [7.0, 7.0]


def test_persistent_failures_and_client_errors_are_reported_not_retried_forever(
    published: GitHubEmulatorHandle,
) -> None:
    sleeps: list[float] = []
    forge = forge_for(published, published.bot_token, sleeps, retry=RetryPolicy(max_attempts=3))
    published.faults.fail_next(5, status=502)
    with pytest.raises(GitHubForgeError) as failing:
        forge.get_pull_request("demo/sample-app", 1)
    assert failing.value.status == 502
    assert sleeps == [1.0, 2.0]
    published.faults.clear()

    with pytest.raises(GitHubForgeError) as missing:
        forge.get_pull_request("demo/no-such-repo", 1)
    assert missing.value.status == 404
    assert len(sleeps) == 2

    secret = "ghp_definitely-wrong"
    with pytest.raises(GitHubForgeError) as rejected:
        forge_for(published, secret).get_pull_request("demo/sample-app", 1)
    assert rejected.value.status == 401
    assert c.ENV_FORGE_TOKEN in str(rejected.value)
    assert secret not in str(rejected.value)


def test_github_app_installation_token(published: GitHubEmulatorHandle) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    published.emulator.register_app(4242, "atomesh", public_pem, installation_id=77)

    env = {
        c.ENV_FORGE_API_URL: published.url,
        c.ENV_FORGE_APP_ID: "4242",
        c.ENV_FORGE_APP_PRIVATE_KEY: private_pem,
        c.ENV_FORGE_APP_INSTALLATION_ID: "77",
    }
    forge = GitHubForge.from_env(env, sleep=[].append)
    ref = forge.open_or_update_pull_request(request())
    pr = published.client(published.bot_token).get_repo("demo/sample-app").get_pull(ref.number)
    assert pr.user.login == "atomesh[bot]"

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    impostor = GitHubForge(published.url, app=AppCredentials(4242, other.decode(), 77), sleep=[].append)
    with pytest.raises(GitHubForgeError) as refused:
        impostor.get_pull_request("demo/sample-app", ref.number)
    assert refused.value.status == 401


def test_from_env_names_the_missing_variables() -> None:
    with pytest.raises(GitHubForgeError, match=c.ENV_FORGE_API_URL):
        GitHubForge.from_env({})
    with pytest.raises(GitHubForgeError, match=c.ENV_FORGE_APP_INSTALLATION_ID):
        GitHubForge.from_env({c.ENV_FORGE_API_URL: "http://127.0.0.1:1/api/v3"})
