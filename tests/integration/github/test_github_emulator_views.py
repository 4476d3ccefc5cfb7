"""The emulator's HTML view (what a person uses during `atomesh dev`) and its other merge methods."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from tests.fixtures.github import GitHubEmulatorHandle

pytestmark = pytest.mark.integration


def open_pr(gh: GitHubEmulatorHandle, branch: str, files: dict[str, str]) -> int:
    repo = gh.seed_sample_app()
    gh.push_branch(repo, branch, files)
    return int(
        gh.client(gh.bot_token).get_repo(repo).create_pull(base="main", head=branch, title="T", body="**B**").number
    )


def post(url: str, form: dict[str, str]) -> str:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")) as response:
        return str(response.read().decode())


def get(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return str(response.read().decode())


def test_pull_request_page_shows_body_and_diff(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/web", {"config/app.yaml": "server:\n  port: 9090\n"})
    page = get(f"{github_emulator.web_url}/demo/sample-app/pull/{number}")
    assert "<p><strong>B</strong></p>" in page
    assert "<code>config/app.yaml</code>" in page
    assert '<span class="add">+  port: 9090</span>' in page
    assert "Request changes" in page
    assert "Merge" in page
    with urllib.request.urlopen(f"{github_emulator.web_url}/") as response:
        assert f"/demo/sample-app/pull/{number}" in response.read().decode()


def test_buttons_act_as_the_reviewer(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/web", {"README.md": "# changed\n"})
    base = f"{github_emulator.web_url}/demo/sample-app/pull/{number}"
    post(f"{base}/review", {"event": "REQUEST_CHANGES", "body": "Say why"})
    post(f"{base}/merge", {})

    pr = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app").get_pull(number)
    assert [(r.user.login, r.state, r.body) for r in pr.get_reviews()] == [("reviewer", "CHANGES_REQUESTED", "Say why")]
    assert (pr.merged, pr.merged_by.login) == (True, "reviewer")


SURFACE = """<!-- atomesh:provenance run=r-1 agent=<b>x</b> -->
## Verification

| check | result |
| --- | --- |
| lint | <kbd>pass</kbd> |

<details><summary>Evidence</summary>

- [x] tests ran
- [ ] reviewed

</details>

> [!WARNING]
> Touches `config/`.

See https://example.com/run/1 <script>alert(1)</script> <a href="javascript:alert(2)" onclick="x()">link</a>
"""


def test_pull_request_page_renders_the_verification_surface_as_github_does(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    repo = github_emulator.seed_sample_app()
    sha = github_emulator.push_branch(repo, "atomesh/surface", {"README.md": "# surface\n"})
    bot = github_emulator.client(github_emulator.bot_token).get_repo(repo)
    number = bot.create_pull(base="main", head="atomesh/surface", title="Surface <i>", body=SURFACE).number
    page = get(f"{github_emulator.web_url}/{repo}/pull/{number}")
    assert "<td><kbd>pass</kbd></td>" in page
    assert "<details><summary>Evidence</summary>" in page
    assert '<input type="checkbox" checked="" disabled=""> tests ran' in page
    assert '<div class="markdown-alert markdown-alert-warning"><p class="markdown-alert-title">Warning</p>' in page
    assert '<a href="https://example.com/run/1" rel="nofollow">https://example.com/run/1</a>' in page
    # Hidden provenance stays hidden; scripts, javascript: links and event handlers are gone; titles escaped.
    assert "atomesh:provenance" not in page
    assert "<script>alert" not in page
    assert "javascript:" not in page
    assert "onclick" not in page
    assert "Surface &lt;i&gt;" in page
    assert sha[:12] in page


def test_pull_request_page_shows_checks_reviews_and_who_merged(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/checked", {"README.md": "# checked\n"})
    bot = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app")
    pull = bot.get_pull(number)
    pull.create_review_request(reviewers=["reviewer"])
    bot.create_check_run("atomesh/tests", pull.head.sha, status="completed", conclusion="failure")
    bot.get_commit(pull.head.sha).create_status("success", context="atomesh/lint", description="clean <ok>")
    comment = pull.create_issue_comment("Run **finished**")
    reviewer = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    line = reviewer.create_review_comment("Why `checked`?", bot.get_commit(pull.head.sha), "README.md", line=1)
    page = get(f"{github_emulator.web_url}/demo/sample-app/pull/{number}")
    assert '<td id="reviewers">reviewer</td>' in page
    assert '<td class="conclusion-failure">failure</td>' in page
    assert '<td class="conclusion-success">success</td>' in page
    assert "clean &lt;ok&gt;" in page
    assert "Run <strong>finished</strong>" in page
    assert "commented on <code>README.md:1</code>" in page
    assert "Why <code>checked</code>?" in page
    # The html_url of each item the API returns lands on that item of the page.
    for url in (comment.html_url, line.html_url):
        assert url.startswith(f"{github_emulator.web_url}/demo/sample-app/pull/{number}#")
        assert f'id="{url.partition("#")[2]}"' in page

    review = reviewer.create_review(body="Ship *it*", event="APPROVE")
    reviewer.merge()
    page = get(f"{github_emulator.web_url}/demo/sample-app/pull/{number}")
    assert f'id="{review.html_url.partition("#")[2]}"' in page
    assert '<span class="verdict-APPROVED">approved these changes</span>' in page
    assert "Ship <em>it</em>" in page
    assert '<span class="state merged">merged</span>' in page
    assert "<b>reviewer</b> merged <code>atomesh/checked</code> into <code>main</code>" in page


def test_issue_page_renders_markdown_and_comments(github_emulator: GitHubEmulatorHandle) -> None:
    repo = github_emulator.seed_sample_app()
    bot = github_emulator.client(github_emulator.bot_token).get_repo(repo)
    issue = bot.create_issue(title="Flaky <run>", body="> [!NOTE]\n> Seen twice.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    issue.create_comment("Fixed in ~~main~~ `dev`")
    issue.edit(state="closed", state_reason="completed")
    page = get(f"{github_emulator.web_url}/{repo}/issues/{issue.number}")
    assert "Flaky &lt;run&gt;" in page
    assert '<div class="markdown-alert markdown-alert-note"><p class="markdown-alert-title">Note</p>' in page
    assert "<td>1</td>" in page
    assert "Fixed in <del>main</del> <code>dev</code>" in page
    assert "<b>atomesh-bot</b> closed this as completed" in page
    assert f"/{repo}/issues/{issue.number}" in get(f"{github_emulator.web_url}/{repo}")


def test_issues_url_of_a_pull_request_leads_to_its_page(github_emulator: GitHubEmulatorHandle) -> None:
    number = open_pr(github_emulator, "atomesh/redirect", {"README.md": "# r\n"})
    with urllib.request.urlopen(f"{github_emulator.web_url}/demo/sample-app/issues/{number}") as response:
        assert response.url == f"{github_emulator.web_url}/demo/sample-app/pull/{number}"
        assert "<strong>B</strong>" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{github_emulator.web_url}/demo/sample-app/issues/999")
    assert missing.value.code == 404


@pytest.mark.parametrize(("method", "parents"), [("squash", 1), ("rebase", 1), ("merge", 2)])
def test_merge_methods(github_emulator: GitHubEmulatorHandle, method: str, parents: int) -> None:
    number = open_pr(github_emulator, "atomesh/m", {"data/cities.csv": "city,country,population\nLima,PE,1\n"})
    pr = github_emulator.client(github_emulator.reviewer_token).get_repo("demo/sample-app").get_pull(number)
    sha = pr.merge(merge_method=method).sha
    repo = github_emulator.client(github_emulator.bot_token).get_repo("demo/sample-app")
    commit = repo.get_commit(sha)
    assert len(commit.parents) == parents
    assert repo.get_contents("data/cities.csv").decoded_content.endswith(b"Lima,PE,1\n")
    assert repo.get_branch("main").commit.sha == sha
