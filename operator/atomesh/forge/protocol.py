"""The forge port: what atomesh needs from git hosting. GitHub (PyGithub) implements it;
the GitHub emulator in `atomesh.devstack` serves the same REST API for tests and `atomesh dev`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

PullState = Literal["open", "closed"]
ReviewVerdict = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
CheckConclusion = Literal["success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required"]


@dataclass(frozen=True)
class PullRequestRef:
    """A pull request as atomesh tracks it."""

    repo: str
    number: int
    url: str
    head_branch: str
    base_branch: str
    head_sha: str
    state: PullState
    merged: bool = False
    merged_by: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    draft: bool = False
    head_repo: str = ""  # owner/name the head branch lives in ('' when its fork was deleted)


@dataclass(frozen=True)
class ReviewComment:
    """A review, a line comment on the diff, or a conversation comment."""

    author: str
    body: str
    submitted_at: str
    verdict: ReviewVerdict | None = None
    path: str | None = None
    line: int | None = None
    id: int = 0


@dataclass(frozen=True)
class PullRequestRequest:
    """What publish asks the forge to open or update."""

    repo: str
    head_branch: str
    base_branch: str
    title: str
    body: str
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    team_reviewers: list[str] = field(default_factory=list)
    draft: bool = False


class Forge(Protocol):
    """Pull requests, reviews and checks on a forge. Every call is idempotent where it can be.

    Every method raises `atomesh.forge.errors.ForgeError` (NotFound for a missing pull request,
    ForgeAPIError when the forge refuses or keeps failing), never an exception of the library behind it.
    """

    def open_or_update_pull_request(self, request: PullRequestRequest) -> PullRequestRef:
        """Find the open PR by head branch first; update it, or open a new one."""
        ...

    def get_pull_request(self, repo: str, number: int) -> PullRequestRef: ...

    def list_reviews(self, repo: str, number: int) -> list[ReviewComment]:
        """Reviews, line comments and conversation comments, oldest first."""
        ...

    def permission(self, repo: str, user: str) -> str:
        """admin, maintain, write, triage, read or none."""
        ...

    def team_membership(self, org: str, team_slug: str, user: str) -> str | None:
        """The state of `user`'s membership of team org/team_slug: active or pending; None for no member."""
        ...

    def branch_head(self, repo: str, branch: str) -> str:
        """The commit `branch` of `repo` points at; NotFound when the repository or the branch does not exist."""
        ...

    def branch_protected(self, repo: str, branch: str) -> bool:
        """Whether `branch` of `repo` has branch protection; NotFound when it does not exist."""
        ...

    def delete_ref(self, repo: str, ref: str) -> bool:
        """Delete `ref` (refs/...) of `repo`; False when it did not exist."""
        ...

    def refs_under(self, repo: str, prefix: str) -> list[str]:
        """Full names of the refs of `repo` starting with `prefix` (refs/...), sorted."""
        ...

    def folder_bytes(self, repo: str, ref: str, path: str) -> int:
        """Total bytes of the files under folder `path` at `ref`; 0 when there is no such folder."""
        ...

    def create_check_run(
        self, repo: str, head_sha: str, name: str, conclusion: CheckConclusion, title: str, summary: str
    ) -> None: ...

    def comment(self, repo: str, number: int, body: str) -> None: ...

    def merge(self, repo: str, number: int, method: Literal["merge", "squash", "rebase"] = "merge") -> str:
        """Merge the PR; returns the merge commit sha."""
        ...
