"""In-memory state of the GitHub emulator: users, tokens, repositories and their pull requests.

Git objects live in bare repositories (`repos.GitStorage`); everything else GitHub keeps in its
database lives here. All mutation happens under `Store.lock`, so test helpers calling from
another thread and request handlers on the server's loop never interleave.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]
PERMISSION_RANK: dict[str, int] = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # "User", "Bot" or "Organization"
    name: str | None = None
    email: str | None = None


@dataclass
class Label:
    name: str
    color: str
    id: int
    description: str = ""


@dataclass
class Reaction:
    id: int
    user: str
    content: str  # +1, -1, laugh, confused, heart, hooray, rocket or eyes
    created_at: str


@dataclass
class IssueComment:
    id: int
    user: str
    body: str
    created_at: str
    updated_at: str
    reactions: list[Reaction] = field(default_factory=list)


@dataclass
class LineComment:
    id: int
    user: str
    body: str
    path: str
    line: int | None
    side: str
    commit_id: str
    created_at: str
    review_id: int | None = None
    in_reply_to_id: int | None = None


@dataclass
class Review:
    id: int
    user: str
    body: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str
    submitted_at: str | None


@dataclass
class Pull:
    number: int
    id: int
    title: str
    body: str
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    created_at: str
    updated_at: str
    state: str = "open"
    merged: bool = False
    merged_by: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    line_comments: list[LineComment] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)

    def touch(self) -> None:
        self.updated_at = now_iso()


@dataclass
class Issue:
    """An issue that is not a pull request; pull requests and issues share a repository's numbers."""

    number: int
    id: int
    title: str
    body: str
    user: str
    created_at: str
    updated_at: str
    state: str = "open"
    state_reason: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    comments: list[IssueComment] = field(default_factory=list)

    def touch(self) -> None:
        self.updated_at = now_iso()


# What GitHub's issues API addresses by number: an issue, or a pull request seen as an issue.
Thread = Pull | Issue


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str | None
    summary: str | None
    text: str | None
    details_url: str | None
    external_id: str | None
    started_at: str
    completed_at: str | None
    app_login: str


@dataclass
class CommitStatus:
    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str


@dataclass
class Hook:
    """A webhook subscription; `events` empty or ["*"] means every event."""

    id: int
    url: str
    secret: str | None
    events: list[str]
    active: bool = True
    content_type: str = "json"
    created_at: str = field(default_factory=now_iso)

    def wants(self, event: str) -> bool:
        return self.active and (not self.events or "*" in self.events or event in self.events)


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool
    description: str
    created_at: str
    collaborators: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    check_runs: list[CheckRun] = field(default_factory=list)
    statuses: list[CommitStatus] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Token:
    value: str
    login: str
    expires_at: str | None = None
    # Installation tokens act for an app on every repository of its installation.
    installation_id: int | None = None


@dataclass
class App:
    """A GitHub App: JWTs signed with its private key are verified with `public_key_pem`."""

    id: int
    slug: str
    public_key_pem: str
    installation_id: int


@dataclass
class Team:
    """A team of an organization: members by login, each with a role (member, maintainer) and a state
    (active, or pending until an invitation to the organization is accepted)."""

    org: str
    slug: str
    id: int
    org_id: int
    members: dict[str, tuple[str, str]] = field(default_factory=dict)


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.users: dict[str, User] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.apps: dict[int, App] = {}
        self.global_hooks: list[Hook] = []
        self.teams: dict[tuple[str, str], Team] = {}  # (org, slug), both lower-case

    def new_id(self) -> int:
        return next(self._ids)

    def add_user(self, login: str, *, type: str = "User", name: str | None = None) -> User:
        with self.lock:
            user = self.users.get(login)
            if user is None:
                user = User(login=login, id=self.new_id(), type=type, name=name or login)
                self.users[login] = user
            return user

    def add_token(self, value: str, login: str, **kwargs: object) -> Token:
        with self.lock:
            self.add_user(login)
            token = Token(value=value, login=login, **kwargs)  # type: ignore[arg-type]
            self.tokens[value] = token
            return token

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def permission(self, repo: Repo, login: str | None) -> str:
        """The effective permission of `login` on `repo`, as GitHub's permission endpoint reports it."""
        if login is None:
            return "none" if repo.private else "read"
        if login == repo.owner:
            return "admin"
        granted = repo.collaborators.get(login)
        if granted is not None:
            return granted
        for app in self.apps.values():
            if login == f"{app.slug}[bot]":
                return "write"
        return "none" if repo.private else "read"

    def allows(self, repo: Repo, login: str | None, needed: str) -> bool:
        return PERMISSION_RANK[self.permission(repo, login)] >= PERMISSION_RANK[needed]
