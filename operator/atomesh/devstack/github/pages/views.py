"""What a reviewer sees of a pull request or an issue, gathered from the store for the templates: rendered
Markdown, the checks of the head commit, the conversation in time order and the diff of each changed file."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ..markdown import render as markdown
from ..repos import FileChange, GitStorage
from ..store import CheckRun, CommitStatus, Issue, IssueComment, Pull, Repo, Thread

# How GitHub words a review's verdict in the conversation.
VERDICTS = {
    "APPROVED": "approved these changes",
    "CHANGES_REQUESTED": "requested changes",
    "COMMENTED": "reviewed",
    "DISMISSED": "had a review dismissed",
    "PENDING": "has a pending review",
}


@dataclass(frozen=True)
class Entry:
    """One item of the conversation: a comment, a review or a comment on a line of the diff."""

    at: str
    user: str
    kind: str  # comment, review, line
    body: Markup
    anchor: str  # the fragment of the item's html_url in the REST API, e.g. issuecomment-1001
    verdict: str = ""  # a review's state, e.g. APPROVED
    where: str = ""  # a line comment's path:line


@dataclass(frozen=True)
class DiffLine:
    kind: str  # add, del, hunk, meta or "" for context
    text: str


@dataclass(frozen=True)
class ChangedFile:
    change: FileChange
    lines: list[DiffLine]


def state(thread: Thread) -> str:
    """open, closed or merged, as the state badge shows it."""
    return "merged" if isinstance(thread, Pull) and thread.merged else thread.state


def body(text: str) -> Markup:
    # Safe to mark: markdown.render sanitises to GitHub's allow-list.
    return Markup(markdown(text))  # noqa: S704


def comments(items: list[IssueComment]) -> list[Entry]:
    return [Entry(c.created_at, c.user, "comment", body(c.body), f"issuecomment-{c.id}") for c in items]


def conversation(pull: Pull) -> list[Entry]:
    entries = comments(pull.comments)
    entries += [
        Entry(r.submitted_at or "", r.user, "review", body(r.body), f"pullrequestreview-{r.id}", verdict=r.state)
        for r in pull.reviews
        if r.state != "PENDING"
    ]
    entries += [
        Entry(c.created_at, c.user, "line", body(c.body), f"discussion_r{c.id}", where=_where(c.path, c.line))
        for c in pull.line_comments
    ]
    return sorted(entries, key=lambda entry: entry.at)


@dataclass(frozen=True)
class Listing:
    """A repository's pull requests and issues, newest first, for the list pages."""

    repo: Repo
    pulls: list[Pull]
    issues: list[Issue]


def listing(repo: Repo) -> Listing:
    return Listing(
        repo,
        sorted(repo.pulls.values(), key=lambda pull: -pull.number),
        sorted(repo.issues.values(), key=lambda issue: -issue.number),
    )


def _where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def check_runs(repo: Repo, sha: str) -> list[CheckRun]:
    """The latest run of each check on the head commit, as the checks box lists them."""
    latest: dict[str, CheckRun] = {}
    for run in repo.check_runs:
        if run.head_sha == sha:
            latest[run.name] = run
    return sorted(latest.values(), key=lambda run: run.name)


def statuses(repo: Repo, sha: str) -> list[CommitStatus]:
    """The latest status of each context on the head commit (GitHub's combined status)."""
    latest: dict[str, CommitStatus] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status
    return sorted(latest.values(), key=lambda status: status.context)


def changed_files(storage: GitStorage, repo: Repo, pull: Pull) -> list[ChangedFile]:
    changes = storage.changed_files(repo.full_name, pull.base_sha, pull.head_sha)
    chunks = _per_file(storage.diff(repo.full_name, pull.base_sha, pull.head_sha))
    return [ChangedFile(change, chunks.get(change.path, [])) for change in changes]


def _per_file(diff: str) -> dict[str, list[DiffLine]]:
    files: dict[str, list[DiffLine]] = {}
    current: list[DiffLine] = []
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            # "diff --git a/<old> b/<new>": the file is named by its new path, as the files list names it.
            current = files.setdefault(line.rpartition(" b/")[2], [])
            continue
        kind = _kind(line)
        if kind != "meta":  # GitHub shows hunks, not git's headers
            current.append(DiffLine(kind, line))
    return files


def _kind(line: str) -> str:
    if line.startswith(("+++", "---", "index ", "new file", "deleted file", "similarity", "rename ")):
        return "meta"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")
