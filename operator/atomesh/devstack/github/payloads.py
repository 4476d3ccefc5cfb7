"""JSON shapes of GitHub REST objects, with every URL on the emulator's own host.

PyGithub follows the `url` fields it is given (a PR's `issue_url` for labels and comments,
a repository's `url` for pulls), so each object carries the same URL fields GitHub sends.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from .repos import CommitInfo, GitStorage
from .store import CheckRun, CommitStatus, IssueComment, Label, LineComment, Pull, Repo, Review, Store

Json = dict[str, Any]


@dataclass(frozen=True)
class Urls:
    """The origin a request came in on: API under /api/v3 (like GitHub Enterprise), git and HTML at the root."""

    origin: str

    @property
    def api(self) -> str:
        return f"{self.origin}/api/v3"

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def repo_html(self, repo: Repo) -> str:
        return f"{self.origin}/{repo.full_name}"


def user_json(store: Store, urls: Urls, login: str | None) -> Json | None:
    if login is None:
        return None
    user = store.users.get(login) or store.add_user(login)
    return {
        "login": user.login,
        "id": user.id,
        "node_id": f"U_{user.id}",
        "type": user.type,
        "site_admin": False,
        "name": user.name,
        "email": user.email,
        "url": f"{urls.api}/users/{user.login}",
        "html_url": f"{urls.origin}/{user.login}",
        "avatar_url": f"{urls.origin}/avatars/{user.login}",
        "repos_url": f"{urls.api}/users/{user.login}/repos",
    }


def repo_json(
    store: Store, urls: Urls, repo: Repo, storage: GitStorage | None = None, login: str | None = None
) -> Json:
    api = urls.repo_api(repo)
    body: Json = {
        "id": repo.id,
        "node_id": f"R_{repo.id}",
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user_json(store, urls, repo.owner),
        "private": repo.private,
        "visibility": "private" if repo.private else "public",
        "description": repo.description,
        "fork": False,
        "default_branch": repo.default_branch,
        "created_at": repo.created_at,
        "updated_at": repo.created_at,
        "url": api,
        "html_url": urls.repo_html(repo),
        "clone_url": f"{urls.origin}/{repo.full_name}.git",
        "git_url": f"{urls.origin}/{repo.full_name}.git",
        "pulls_url": f"{api}/pulls{{/number}}",
        "issues_url": f"{api}/issues{{/number}}",
        "hooks_url": f"{api}/hooks",
        "allow_merge_commit": True,
        "allow_squash_merge": True,
        "allow_rebase_merge": True,
        "archived": False,
        "disabled": False,
    }
    if login is not None:
        rank = store.permission(repo, login)
        order = ["read", "triage", "write", "maintain", "admin"]
        have = order.index(rank) if rank in order else -1
        body["permissions"] = {
            "pull": have >= 0,
            "triage": have >= 1,
            "push": have >= 2,
            "maintain": have >= 3,
            "admin": have >= 4,
        }
    return body


def label_json(urls: Urls, repo: Repo, label: Label) -> Json:
    return {
        "id": label.id,
        "node_id": f"LA_{label.id}",
        "name": label.name,
        "color": label.color,
        "description": label.description,
        "default": False,
        "url": f"{urls.repo_api(repo)}/labels/{label.name}",
    }


def pull_part(store: Store, urls: Urls, repo: Repo, ref: str, sha: str) -> Json:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user_json(store, urls, repo.owner),
        "repo": repo_json(store, urls, repo),
    }


def pull_json(store: Store, urls: Urls, repo: Repo, pull: Pull, storage: GitStorage) -> Json:
    api = f"{urls.repo_api(repo)}/pulls/{pull.number}"
    issue_api = f"{urls.repo_api(repo)}/issues/{pull.number}"
    html = f"{urls.repo_html(repo)}/pull/{pull.number}"
    mergeable: bool | None = None
    if pull.state == "open":
        mergeable = storage.mergeable(repo.full_name, pull.base_sha, pull.head_sha)
    state = "clean" if mergeable else "dirty" if mergeable is False else "unknown"
    changes = storage.changed_files(repo.full_name, pull.base_sha, pull.head_sha)
    return {
        "id": pull.id,
        "node_id": f"PR_{pull.id}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "body": pull.body,
        "user": user_json(store, urls, pull.user),
        "draft": pull.draft,
        "labels": [label_json(urls, repo, repo.labels[name]) for name in pull.labels if name in repo.labels],
        "requested_reviewers": [user_json(store, urls, login) for login in pull.requested_reviewers],
        "requested_teams": [team_json(urls, repo, slug) for slug in pull.requested_teams],
        "assignees": [],
        "head": pull_part(store, urls, repo, pull.head_ref, pull.head_sha),
        "base": pull_part(store, urls, repo, pull.base_ref, pull.base_sha),
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
        "merged_at": pull.merged_at,
        "merged": pull.merged,
        "merged_by": user_json(store, urls, pull.merged_by),
        "merge_commit_sha": pull.merge_commit_sha,
        "mergeable": mergeable,
        "mergeable_state": state,
        "rebaseable": mergeable,
        "comments": len(pull.comments),
        "review_comments": len(pull.line_comments),
        "commits": len(storage.out(repo.full_name, "rev-list", f"{pull.base_sha}..{pull.head_sha}").split()),
        "additions": sum(change.additions for change in changes),
        "deletions": sum(change.deletions for change in changes),
        "changed_files": len(changes),
        "maintainer_can_modify": False,
        "url": api,
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{urls.repo_api(repo)}/pulls/comments{{/number}}",
        "comments_url": f"{issue_api}/comments",
        "statuses_url": f"{urls.repo_api(repo)}/statuses/{pull.head_sha}",
        "_links": {"self": {"href": api}, "html": {"href": html}, "issue": {"href": issue_api}},
    }


def issue_json(store: Store, urls: Urls, repo: Repo, pull: Pull) -> Json:
    api = f"{urls.repo_api(repo)}/issues/{pull.number}"
    return {
        "id": pull.id,
        "number": pull.number,
        "state": pull.state,
        "title": pull.title,
        "body": pull.body,
        "user": user_json(store, urls, pull.user),
        "labels": [label_json(urls, repo, repo.labels[name]) for name in pull.labels if name in repo.labels],
        "assignees": [],
        "comments": len(pull.comments),
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
        "closed_by": user_json(store, urls, pull.closed_by),
        "url": api,
        "html_url": f"{urls.repo_html(repo)}/pull/{pull.number}",
        "comments_url": f"{api}/comments",
        "labels_url": f"{api}/labels{{/name}}",
        "repository_url": urls.repo_api(repo),
        "pull_request": {
            "url": f"{urls.repo_api(repo)}/pulls/{pull.number}",
            "html_url": f"{urls.repo_html(repo)}/pull/{pull.number}",
            "merged_at": pull.merged_at,
        },
    }


def team_json(urls: Urls, repo: Repo, slug: str) -> Json:
    return {
        "id": zlib.crc32(f"{repo.owner}/{slug}".encode()) % 10_000_000,
        "slug": slug,
        "name": slug,
        "url": f"{urls.api}/orgs/{repo.owner}/teams/{slug}",
        "html_url": f"{urls.origin}/orgs/{repo.owner}/teams/{slug}",
    }


def review_json(store: Store, urls: Urls, repo: Repo, pull: Pull, review: Review) -> Json:
    html = f"{urls.repo_html(repo)}/pull/{pull.number}#pullrequestreview-{review.id}"
    return {
        "id": review.id,
        "node_id": f"PRR_{review.id}",
        "user": user_json(store, urls, review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "submitted_at": review.submitted_at,
        "author_association": "COLLABORATOR",
        "html_url": html,
        "pull_request_url": f"{urls.repo_api(repo)}/pulls/{pull.number}",
        "url": f"{urls.repo_api(repo)}/pulls/{pull.number}/reviews/{review.id}",
        "_links": {"html": {"href": html}},
    }


def line_comment_json(store: Store, urls: Urls, repo: Repo, pull: Pull, comment: LineComment) -> Json:
    return {
        "id": comment.id,
        "node_id": f"PRRC_{comment.id}",
        "pull_request_review_id": comment.review_id,
        "user": user_json(store, urls, comment.user),
        "body": comment.body,
        "path": comment.path,
        "line": comment.line,
        "original_line": comment.line,
        "side": comment.side,
        "position": comment.line,
        "original_position": comment.line,
        "commit_id": comment.commit_id,
        "original_commit_id": comment.commit_id,
        "in_reply_to_id": comment.in_reply_to_id,
        "diff_hunk": "",
        "created_at": comment.created_at,
        "updated_at": comment.created_at,
        "url": f"{urls.repo_api(repo)}/pulls/comments/{comment.id}",
        "html_url": f"{urls.repo_html(repo)}/pull/{pull.number}#discussion_r{comment.id}",
        "pull_request_url": f"{urls.repo_api(repo)}/pulls/{pull.number}",
    }


def comment_json(store: Store, urls: Urls, repo: Repo, pull: Pull, comment: IssueComment) -> Json:
    return {
        "id": comment.id,
        "node_id": f"IC_{comment.id}",
        "user": user_json(store, urls, comment.user),
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "author_association": "COLLABORATOR",
        "url": f"{urls.repo_api(repo)}/issues/comments/{comment.id}",
        "html_url": f"{urls.repo_html(repo)}/pull/{pull.number}#issuecomment-{comment.id}",
        "issue_url": f"{urls.repo_api(repo)}/issues/{pull.number}",
    }


def commit_json(store: Store, urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    api = f"{urls.repo_api(repo)}/commits/{info.sha}"
    git_commit = git_commit_json(urls, repo, info)
    return {
        "sha": info.sha,
        "node_id": f"C_{info.sha}",
        "commit": git_commit,
        "url": api,
        "html_url": f"{urls.repo_html(repo)}/commit/{info.sha}",
        "author": None,
        "committer": None,
        "parents": [{"sha": parent, "url": f"{urls.repo_api(repo)}/commits/{parent}"} for parent in info.parents],
    }


def git_commit_json(urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    return {
        "sha": info.sha,
        "url": f"{urls.repo_api(repo)}/git/commits/{info.sha}",
        "message": info.message,
        "author": {"name": info.author.name, "email": info.author.email, "date": info.author_date},
        "committer": {"name": info.committer.name, "email": info.committer.email, "date": info.committer_date},
        "tree": {"sha": info.tree, "url": f"{urls.repo_api(repo)}/git/trees/{info.tree}"},
        "parents": [{"sha": parent, "url": f"{urls.repo_api(repo)}/git/commits/{parent}"} for parent in info.parents],
    }


def ref_json(urls: Urls, repo: Repo, ref: str, sha: str) -> Json:
    return {
        "ref": ref,
        "node_id": f"REF_{ref}",
        "url": f"{urls.repo_api(repo)}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{urls.repo_api(repo)}/git/commits/{sha}"},
    }


def branch_json(store: Store, urls: Urls, repo: Repo, name: str, info: CommitInfo) -> Json:
    return {
        "name": name,
        "commit": commit_json(store, urls, repo, info),
        "protected": False,
        "_links": {
            "self": f"{urls.repo_api(repo)}/branches/{name}",
            "html": f"{urls.repo_html(repo)}/tree/{name}",
        },
    }


def check_run_json(store: Store, urls: Urls, repo: Repo, run: CheckRun) -> Json:
    return {
        "id": run.id,
        "node_id": f"CR_{run.id}",
        "name": run.name,
        "head_sha": run.head_sha,
        "external_id": run.external_id,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "details_url": run.details_url,
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": 0,
            "annotations_url": f"{urls.repo_api(repo)}/check-runs/{run.id}/annotations",
        },
        "app": {"id": 1, "slug": run.app_login, "name": run.app_login, "owner": user_json(store, urls, repo.owner)},
        "pull_requests": [],
        "url": f"{urls.repo_api(repo)}/check-runs/{run.id}",
        "html_url": f"{urls.repo_html(repo)}/runs/{run.id}",
    }


def status_json(store: Store, urls: Urls, repo: Repo, status: CommitStatus) -> Json:
    return {
        "id": status.id,
        "node_id": f"SC_{status.id}",
        "state": status.state,
        "context": status.context,
        "description": status.description,
        "target_url": status.target_url,
        "creator": user_json(store, urls, status.creator),
        "created_at": status.created_at,
        "updated_at": status.created_at,
        "url": f"{urls.repo_api(repo)}/statuses/{status.sha}",
    }
