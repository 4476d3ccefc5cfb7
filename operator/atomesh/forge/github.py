"""The GitHub forge: PyGithub behind the `Forge` protocol, idempotent and patient with GitHub.

Publishing is safe to repeat: the open PR is found by head branch before one is opened, labels
and reviewers are only added when missing, and a check run of the same name is updated. Every
request goes through `retry.Retrier` (rate limits, 5xx, dropped connections; injectable sleep).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from github import Auth, Github
from github.PullRequest import PullRequest
from github.Repository import Repository

from atomesh.api import constants as c

from . import listing
from .errors import NotFound
from .github_requests import Conditional, conditional_get, team_membership
from .protocol import CheckConclusion, PullRequestRef, PullRequestRequest, ReviewComment, ReviewVerdict
from .retry import GitHubForgeError, Retrier, RetryPolicy
from .review_requests import request_reviews

__all__ = ["AppCredentials", "GitHubForge", "GitHubForgeError", "RetryPolicy", "label_color", "standard_labels"]

log = logging.getLogger(__name__)
BASE_LABEL = "atomesh"
BODY_LIMIT = 65_536  # GitHub rejects longer PR bodies and check-run summaries
TRUNCATED = "\n\n… (truncated by atomesh to fit GitHub's size limit)"
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})
LABEL_COLORS = {"atomesh": "5319e7", "artifact": "0e8a16", "agent": "1d76db"}


@dataclass(frozen=True)
class AppCredentials:
    """GitHub App auth: the app's id and private key (PEM) and the installation to act as."""

    app_id: int
    private_key: str
    installation_id: int

    def __repr__(self) -> str:  # the key never reaches logs
        return f"AppCredentials(app_id={self.app_id}, installation_id={self.installation_id})"


def standard_labels(artifact: str, agent: str, extra: list[str] | None = None) -> list[str]:
    """`atomesh`, `artifact:<type>`, `agent:<name>`, then extras, without duplicates."""
    labels = [BASE_LABEL, f"artifact:{artifact}", f"agent:{agent}", *(extra or [])]
    return list(dict.fromkeys(labels))


def label_color(name: str) -> str:
    return LABEL_COLORS.get(name.split(":", 1)[0], "c5def5")


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _verdict(state: str) -> ReviewVerdict | None:
    verdicts: dict[str, ReviewVerdict] = {
        v: v for v in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
    }  # fmt: skip
    return verdicts.get(state.upper())


def _fit(text: str, limit: int = BODY_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - len(TRUNCATED)] + TRUNCATED


class GitHubForge:
    """`Forge` on GitHub (or the emulator) with a token or GitHub App installation auth."""

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        app: AppCredentials | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        retry: RetryPolicy | None = None,
        timeout: int = 30,
    ) -> None:
        if (token is None) == (app is None):
            raise ValueError("GitHubForge needs exactly one of token= or app= (AppCredentials)")
        auth: Auth.Auth = (
            Auth.Token(token)
            if token is not None
            else Auth.AppAuth(app.app_id, app.private_key).get_installation_auth(app.installation_id)  # type: ignore[union-attr]
        )
        self.api_url = api_url.rstrip("/")
        self._retrier = Retrier(retry or RetryPolicy(), self.api_url, sleep, clock)
        # PyGithub's own retries and request spacing sleep on the wall clock; this class does both.
        self._gh = Github(
            base_url=self.api_url,
            auth=auth,
            retry=None,
            timeout=timeout,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=None,
            user_agent="atomesh",
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> GitHubForge:
        """From ATOMESH_FORGE_API_URL and ATOMESH_FORGE_TOKEN, or the ATOMESH_FORGE_APP_* variables."""
        env = os.environ if env is None else env
        api_url = env.get(c.ENV_FORGE_API_URL)
        if not api_url:
            raise GitHubForgeError(f"{c.ENV_FORGE_API_URL} is not set; set it to the GitHub API URL")
        token = env.get(c.ENV_FORGE_TOKEN)
        if token:
            return cls(api_url, token, **kwargs)
        app_id, key, installation = (
            env.get(c.ENV_FORGE_APP_ID),
            env.get(c.ENV_FORGE_APP_PRIVATE_KEY),
            env.get(c.ENV_FORGE_APP_INSTALLATION_ID),
        )
        if not (app_id and key and installation):
            raise GitHubForgeError(
                f"no GitHub credentials: set {c.ENV_FORGE_TOKEN}, or {c.ENV_FORGE_APP_ID}, "
                f"{c.ENV_FORGE_APP_PRIVATE_KEY} and {c.ENV_FORGE_APP_INSTALLATION_ID}"
            )
        try:
            credentials = AppCredentials(int(app_id), key, int(installation))
        except ValueError:
            raise GitHubForgeError(
                f"{c.ENV_FORGE_APP_ID} and {c.ENV_FORGE_APP_INSTALLATION_ID} must be integers"
            ) from None
        return cls(api_url, app=credentials, **kwargs)

    # --- reading --------------------------------------------------------------------------------
    def _repo(self, repo: str) -> Repository:
        return self._retrier.call(f"get repository {repo}", lambda: self._gh.get_repo(repo))

    def _pull(self, repo: str, number: int) -> PullRequest:
        gh_repo = self._repo(repo)
        return self._retrier.call(f"get pull request {repo}#{number}", lambda: gh_repo.get_pull(number))

    def _ref(self, repo: str, pr: PullRequest) -> PullRequestRef:
        closed_by: str | None = None
        if pr.state == "closed" and not pr.merged:
            issue = self._retrier.call(f"get issue {repo}#{pr.number}", lambda: pr.as_issue())
            closed_by = issue.closed_by.login if issue.closed_by else None
        elif pr.merged:
            closed_by = pr.merged_by.login if pr.merged_by else None
        return PullRequestRef(
            repo=repo,
            number=pr.number,
            url=pr.html_url,
            head_branch=pr.head.ref,
            base_branch=pr.base.ref,
            head_sha=pr.head.sha,
            state="closed" if pr.state == "closed" else "open",
            merged=bool(pr.merged),
            merged_by=pr.merged_by.login if pr.merged_by else None,
            merged_at=_iso(pr.merged_at),
            merge_commit_sha=pr.merge_commit_sha if pr.merged else None,
            closed_by=closed_by,
            closed_at=_iso(pr.closed_at),
            draft=bool(pr.draft),
            head_repo=pr.head.repo.full_name if pr.head.repo is not None else "",
        )

    def get_pull_request(self, repo: str, number: int) -> PullRequestRef:
        return self._ref(repo, self._pull(repo, number))

    def find_pull_request(
        self, repo: str, head_branch: str, state: Literal["open", "closed", "all"] = "open"
    ) -> PullRequestRef | None:
        """The newest pull request from `head_branch` of `repo` (same-repository branches), if any."""
        pr = self._find(self._repo(repo), repo, head_branch, state)
        return self._ref(repo, pr) if pr is not None else None

    def _find(self, gh_repo: Repository, repo: str, head_branch: str, state: str) -> PullRequest | None:
        owner = repo.split("/", 1)[0]
        pulls = self._retrier.call(
            f"list pull requests of {repo} from {head_branch}",
            lambda: [
                p for p in gh_repo.get_pulls(state=state, head=f"{owner}:{head_branch}") if p.head.ref == head_branch
            ],
        )
        return max(pulls, key=lambda p: p.number) if pulls else None

    def get_pull_request_if_changed(
        self, repo: str, number: int, etag: str | None
    ) -> tuple[PullRequestRef | None, str | None]:
        """A conditional GET for polling: (None, etag) when unchanged since `etag` (a 304 costs no rate limit)."""
        answer = conditional_get(
            self._gh, self._retrier, f"poll pull request {repo}#{number}", f"/repos/{repo}/pulls/{number}", etag
        )
        new_etag, data, headers = answer.etag or etag, answer.data, answer.headers
        if answer.status == 304:
            return None, new_etag
        pr = self._gh.create_from_raw_data(PullRequest, data, dict(headers))
        return self._ref(repo, pr), new_etag

    def list_reviews(self, repo: str, number: int) -> list[ReviewComment]:
        pr = self._pull(repo, number)
        where = f"{repo}#{number}"
        items: list[ReviewComment] = []
        for review in self._retrier.call(f"list reviews of {where}", lambda: list(pr.get_reviews())):
            if review.state == "PENDING" or review.submitted_at is None:
                continue
            items.append(
                ReviewComment(
                    author=review.user.login if review.user else "ghost",
                    body=review.body or "",
                    submitted_at=_iso(review.submitted_at) or "",
                    verdict=_verdict(review.state),
                    id=review.id,
                )
            )
        for line in self._retrier.call(f"list review comments of {where}", lambda: list(pr.get_review_comments())):
            items.append(
                ReviewComment(
                    author=line.user.login if line.user else "ghost",
                    body=line.body,
                    submitted_at=_iso(line.created_at) or "",
                    path=line.path,
                    line=line.line if line.line is not None else line.original_line,
                    id=line.id,
                )
            )
        for comment in self._retrier.call(f"list comments of {where}", lambda: list(pr.get_issue_comments())):
            items.append(
                ReviewComment(
                    author=comment.user.login if comment.user else "ghost",
                    body=comment.body,
                    submitted_at=_iso(comment.created_at) or "",
                    id=comment.id,
                )
            )
        return sorted(items, key=lambda item: (item.submitted_at, item.id))

    def permission(self, repo: str, user: str) -> str:
        gh_repo = self._repo(repo)
        try:
            return self._retrier.call(
                f"get permission of {user} on {repo}", lambda: gh_repo.get_collaborator_permission(user)
            )
        except GitHubForgeError as exc:
            if exc.status == 404:  # an unknown user has no access
                return "none"
            raise

    def branch_head(self, repo: str, branch: str) -> str:
        try:
            found = self._retrier.call(f"get branch {branch} of {repo}", lambda: self._repo(repo).get_branch(branch))
        except GitHubForgeError as exc:
            if exc.status == 404:
                raise NotFound(f"{repo} has no branch {branch!r} (or the forge credentials cannot see it)") from None
            raise
        return str(found.commit.sha)

    def repository_events(self, repo: str, etag: str | None, page: int = 1) -> Conditional:
        """One page (100, newest first) of GET /repos/{repo}/events; 304 when unchanged since `etag`."""
        params = {"per_page": 100, "page": page}
        return conditional_get(self._gh, self._retrier, f"list events of {repo}", f"/repos/{repo}/events", etag, params)

    def team_membership(self, org: str, team_slug: str, user: str) -> str | None:
        """active or pending; None when `user` is not a member of org/team_slug."""
        return team_membership(self._gh, self._retrier, org, team_slug, user)

    def branch_protected(self, repo: str, branch: str) -> bool:
        try:
            found = self._retrier.call(f"get branch {branch} of {repo}", lambda: self._repo(repo).get_branch(branch))
        except GitHubForgeError as exc:
            if exc.status == 404:
                raise NotFound(f"{repo} has no branch {branch!r} (or the forge credentials cannot see it)") from None
            raise
        return bool(found.protected)

    def delete_ref(self, repo: str, ref: str) -> bool:
        name = ref.removeprefix("refs/")
        try:
            self._retrier.call(f"delete {ref} of {repo}", lambda: self._repo(repo).get_git_ref(name).delete())
        except GitHubForgeError as exc:
            if exc.status in (404, 422):  # no such ref (GitHub answers 422 to deleting a missing one)
                return False
            raise
        return True

    def folder_bytes(self, repo: str, ref: str, path: str) -> int:
        return listing.folder_bytes(self._retrier, self._repo(repo), ref, path)

    def refs_under(self, repo: str, prefix: str) -> list[str]:
        return listing.refs_under(self._retrier, self._repo(repo), prefix)

    def check_runs(self, repo: str, sha: str) -> dict[str, str | None]:
        """Latest check runs on a commit: name → conclusion (None while still running)."""
        gh_repo = self._repo(repo)
        runs = self._retrier.call(
            f"list check runs of {repo}@{sha[:12]}", lambda: list(gh_repo.get_commit(sha).get_check_runs())
        )
        return {run.name: run.conclusion for run in runs}

    # --- writing --------------------------------------------------------------------------------
    def open_or_update_pull_request(self, request: PullRequestRequest) -> PullRequestRef:
        """Find the open PR from the head branch first; update it, or open one. Safe to repeat."""
        repo = request.repo
        gh_repo = self._repo(repo)
        body = _fit(request.body)
        pr = self._find(gh_repo, repo, request.head_branch, "open")
        if pr is None:
            try:
                pr = self._retrier.call(
                    f"open pull request {repo} {request.head_branch} → {request.base_branch}",
                    lambda: gh_repo.create_pull(
                        base=request.base_branch,
                        head=request.head_branch,
                        title=request.title,
                        body=body,
                        draft=request.draft,
                    ),
                )
            except GitHubForgeError as exc:
                # Another publish may have opened it between our lookup and create.
                pr = self._find(gh_repo, repo, request.head_branch, "open") if exc.status == 422 else None
                if pr is None:
                    raise
        elif (pr.title, pr.body or "", pr.base.ref) != (request.title, body, request.base_branch):
            current = pr
            self._retrier.call(
                f"update pull request {repo}#{pr.number}",
                lambda: current.edit(title=request.title, body=body, base=request.base_branch),
            )
        self._ensure_labels(gh_repo, pr, [BASE_LABEL, *request.labels])
        self._ensure_reviewers(pr, repo, request.reviewers, request.team_reviewers)
        return self._ref(repo, pr)

    def _ensure_labels(self, gh_repo: Repository, pr: PullRequest, wanted: list[str]) -> None:
        present = {label.name for label in pr.labels}
        missing = [name for name in dict.fromkeys(wanted) if name not in present]
        if not missing:
            return
        where = gh_repo.full_name
        existing = {
            label.name for label in self._retrier.call(f"list labels of {where}", lambda: list(gh_repo.get_labels()))
        }
        for name in missing:
            if name in existing:
                continue
            try:
                create = functools.partial(gh_repo.create_label, name, label_color(name))
                self._retrier.call(f"create label {name!r} in {where}", create)
            except GitHubForgeError as exc:
                if exc.status != 422:  # 422: created meanwhile
                    raise
        self._retrier.call(f"label pull request {where}#{pr.number}", lambda: pr.add_to_labels(*missing))

    def _ensure_reviewers(self, pr: PullRequest, repo: str, reviewers: list[str], teams: list[str]) -> None:
        author = pr.user.login if pr.user else None
        requested = {user.login for user in pr.requested_reviewers}
        requested_teams = {team.slug for team in pr.requested_teams}
        users = [u for u in dict.fromkeys(reviewers) if u not in requested and u != author]
        slugs = [t for t in dict.fromkeys(teams) if t not in requested_teams]
        refused = request_reviews(self._retrier, pr, f"{repo}#{pr.number}", users, slugs)
        if refused:
            # Not a collaborator (or the author): the PR is still there for the others to review.
            log.warning("GitHub refused review requests on %s#%d for %s", repo, pr.number, ", ".join(refused))

    def create_check_run(
        self, repo: str, head_sha: str, name: str, conclusion: CheckConclusion, title: str, summary: str
    ) -> None:
        """Create the named check run on `head_sha`, or update it when publish runs again."""
        gh_repo = self._repo(repo)
        where = f"{repo}@{head_sha[:12]}"
        output: dict[str, str | list[dict[str, str | int]]] = {"title": title[:1000], "summary": _fit(summary)}
        existing = self._retrier.call(
            f"list check runs of {where}", lambda: list(gh_repo.get_commit(head_sha).get_check_runs(check_name=name))
        )
        if existing:
            run = existing[0]
            self._retrier.call(
                f"update check run {name!r} on {where}",
                lambda: run.edit(status="completed", conclusion=conclusion, output=output),
            )
            return
        self._retrier.call(
            f"create check run {name!r} on {where}",
            lambda: gh_repo.create_check_run(
                name=name, head_sha=head_sha, status="completed", conclusion=conclusion, output=output
            ),
        )

    def comment(self, repo: str, number: int, body: str) -> None:
        gh_repo = self._repo(repo)
        issue = self._retrier.call(f"get issue {repo}#{number}", lambda: gh_repo.get_issue(number))
        self._retrier.call(f"comment on {repo}#{number}", lambda: issue.create_comment(_fit(body)))

    def react(self, repo: str, number: int, comment_id: int, content: str) -> None:
        """React to an issue or pull request comment (content: +1, -1, eyes, confused, ...)."""
        gh_repo = self._repo(repo)
        issue = self._retrier.call(f"get issue {repo}#{number}", lambda: gh_repo.get_issue(number))
        comment = self._retrier.call(
            f"get comment {comment_id} on {repo}#{number}", lambda: issue.get_comment(comment_id)
        )
        self._retrier.call(
            f"react to comment {comment_id} on {repo}#{number}", lambda: comment.create_reaction(content)
        )

    def merge(self, repo: str, number: int, method: Literal["merge", "squash", "rebase"] = "merge") -> str:
        """Merge the PR; merging an already merged PR returns its merge commit (idempotent)."""
        pr = self._pull(repo, number)
        if pr.merged:
            return str(pr.merge_commit_sha)
        try:
            status = self._retrier.call(
                f"merge {repo}#{number}", lambda: pr.merge(merge_method=method, sha=pr.head.sha)
            )
        except GitHubForgeError:
            # A retried merge whose first attempt went through answers 405; the PR tells the truth.
            again = self._pull(repo, number)
            if again.merged:
                return str(again.merge_commit_sha)
            raise
        if not status.merged:
            raise GitHubForgeError(f"GitHub merge of {repo}#{number} did not merge: {status.message}")
        return str(status.sha)

    def close_pull_request(self, repo: str, number: int) -> PullRequestRef:
        """Close the PR without merging (no-op when already closed)."""
        pr = self._pull(repo, number)
        if pr.state != "closed":
            self._retrier.call(f"close {repo}#{number}", lambda: pr.edit(state="closed"))
        return self._ref(repo, pr)
