"""An in-memory `Forge` for tests: pull requests, reviews, check runs and merges, no network.

It behaves like the GitHub forge where atomesh relies on it: one open PR per head branch
(open_or_update finds it first), numbers from 1, merge returns a commit sha. Tests drive the
review side through `add_review`, `close` and `set_permission`.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field, replace
from typing import Literal

from atomesh.forge.errors import ForgeAPIError, NotFound
from atomesh.forge.protocol import (
    CheckConclusion,
    PullRequestRef,
    PullRequestRequest,
    ReviewComment,
    ReviewVerdict,
)


@dataclass(frozen=True)
class CheckRun:
    repo: str
    head_sha: str
    name: str
    conclusion: CheckConclusion
    title: str
    summary: str


@dataclass
class FakePull:
    ref: PullRequestRef
    request: PullRequestRequest
    reviews: list[ReviewComment] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    updates: int = 0


class FakeForge:
    """In-memory forge. `head_sha_of(repo, branch)` may be set to report pushed commits."""

    def __init__(self, web_url: str = "https://forge.invalid") -> None:
        self.web_url = web_url
        self.pulls: dict[tuple[str, int], FakePull] = {}
        self.check_runs: list[CheckRun] = []
        self.permissions: dict[tuple[str, str], str] = {}
        self.head_shas: dict[tuple[str, str], str] = {}
        self.refs: dict[tuple[str, str], str] = {}  # (repo, refs/...) -> sha, other than branches
        self.protected: set[tuple[str, str]] = set()  # (repo, branch) with branch protection
        self.teams: dict[tuple[str, str], dict[str, str]] = {}  # (org, slug) -> login -> active|pending
        self.folder_sizes: dict[tuple[str, str], int] = {}  # (repo, folder) -> bytes at any ref
        self._numbers: dict[str, itertools.count[int]] = {}
        self._clock = itertools.count(1)

    def _now(self) -> str:
        return f"2025-01-01T00:00:{next(self._clock) % 60:02d}Z"

    def set_head(self, repo: str, branch: str, sha: str) -> None:
        self.head_shas[(repo, branch)] = sha

    def branch_head(self, repo: str, branch: str) -> str:
        if (repo, branch) not in self.head_shas:
            raise NotFound(f"{repo} has no branch {branch!r}")
        return self.head_shas[(repo, branch)]

    def branch_protected(self, repo: str, branch: str) -> bool:
        self.branch_head(repo, branch)  # NotFound for a missing branch, as GitHub answers 404
        return (repo, branch) in self.protected

    def folder_bytes(self, repo: str, ref: str, path: str) -> int:
        return self.folder_sizes.get((repo, path.strip("/")), 0)

    def refs_under(self, repo: str, prefix: str) -> list[str]:
        return sorted(ref for (name, ref) in self.refs if name == repo and ref.startswith(prefix))

    def delete_ref(self, repo: str, ref: str) -> bool:
        if ref.startswith("refs/heads/"):
            return self.head_shas.pop((repo, ref.removeprefix("refs/heads/")), None) is not None
        return self.refs.pop((repo, ref), None) is not None

    def open_or_update_pull_request(self, request: PullRequestRequest) -> PullRequestRef:
        head_sha = self.head_shas.get((request.repo, request.head_branch), "0" * 40)
        for pull in self.pulls.values():
            ref = pull.ref
            if ref.repo == request.repo and ref.head_branch == request.head_branch and ref.state == "open":
                pull.ref = replace(ref, head_sha=head_sha, draft=request.draft)
                pull.request = request
                pull.updates += 1
                return pull.ref
        number = next(self._numbers.setdefault(request.repo, itertools.count(1)))
        ref = PullRequestRef(
            repo=request.repo,
            number=number,
            url=f"{self.web_url}/{request.repo}/pull/{number}",
            head_branch=request.head_branch,
            base_branch=request.base_branch,
            head_sha=head_sha,
            state="open",
            draft=request.draft,
            head_repo=request.repo,
        )
        self.pulls[(request.repo, number)] = FakePull(ref=ref, request=request)
        return ref

    def pull(self, repo: str, number: int) -> FakePull:
        try:
            return self.pulls[(repo, number)]
        except KeyError:
            raise NotFound(f"no pull request {repo}#{number}") from None

    def get_pull_request(self, repo: str, number: int) -> PullRequestRef:
        return self.pull(repo, number).ref

    def list_reviews(self, repo: str, number: int) -> list[ReviewComment]:
        return list(self.pull(repo, number).reviews)

    def permission(self, repo: str, user: str) -> str:
        return self.permissions.get((repo, user), "none")

    def team_membership(self, org: str, team_slug: str, user: str) -> str | None:
        return self.teams.get((org.lower(), team_slug.lower()), {}).get(user.lower())

    def create_check_run(
        self, repo: str, head_sha: str, name: str, conclusion: CheckConclusion, title: str, summary: str
    ) -> None:
        self.check_runs.append(CheckRun(repo, head_sha, name, conclusion, title, summary))

    def comment(self, repo: str, number: int, body: str) -> None:
        self.pull(repo, number).comments.append(body)

    def merge(self, repo: str, number: int, method: Literal["merge", "squash", "rebase"] = "merge") -> str:
        pull = self.pull(repo, number)
        if pull.ref.state != "open":
            raise ForgeAPIError(f"{repo}#{number} is {pull.ref.state}; only open pull requests merge", status=405)
        sha = hashlib.sha1(f"{repo}#{number}:{method}".encode(), usedforsecurity=False).hexdigest()
        pull.ref = replace(
            pull.ref, state="closed", merged=True, merged_by="reviewer", merged_at=self._now(), merge_commit_sha=sha
        )
        return sha

    # The review side, for tests.
    def set_permission(self, repo: str, user: str, level: str) -> None:
        self.permissions[(repo, user)] = level

    def add_team_member(self, org: str, team_slug: str, user: str, state: str = "active") -> None:
        self.teams.setdefault((org.lower(), team_slug.lower()), {})[user.lower()] = state

    def add_review(
        self, repo: str, number: int, author: str, body: str, verdict: ReviewVerdict | None = None
    ) -> ReviewComment:
        pull = self.pull(repo, number)
        review = ReviewComment(
            author=author, body=body, submitted_at=self._now(), verdict=verdict, id=len(pull.reviews) + 1
        )
        pull.reviews.append(review)
        return review

    def close(self, repo: str, number: int, by: str = "reviewer") -> None:
        pull = self.pull(repo, number)
        pull.ref = replace(pull.ref, state="closed", closed_by=by, closed_at=self._now())
