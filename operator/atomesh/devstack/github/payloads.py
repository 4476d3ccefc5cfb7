"""JSON shapes of GitHub REST objects, with every URL on the emulator's own host.

PyGithub follows the `url` fields it is given (a PR's `issue_url` for labels and comments,
a repository's `url` for pulls), so each object carries the same URL fields GitHub sends.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .people import app_for, app_json, user_json
from .repos import CommitInfo, GitStorage, Identity
from .store import CheckRun, CommitStatus, Label, Repo, Store

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


def repo_json(
    store: Store, urls: Urls, repo: Repo, storage: GitStorage | None = None, login: str | None = None
) -> Json:
    """A `full-repository` (which is also a complete `repository`), every URL template GitHub sends."""
    api = urls.repo_api(repo)
    host = urls.origin.split("://", 1)[-1]
    open_pulls = sum(1 for pull in repo.pulls.values() if pull.state == "open")
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
        "homepage": None,
        "language": None,
        "license": None,
        "mirror_url": None,
        "default_branch": repo.default_branch,
        "created_at": repo.created_at,
        "updated_at": repo.created_at,
        "pushed_at": repo.created_at,
        "size": 0,
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers": 0,
        "watchers_count": 0,
        "network_count": 0,
        "subscribers_count": 0,
        "open_issues": open_pulls,
        "open_issues_count": open_pulls,
        "topics": [],
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": False,
        "has_discussions": False,
        "is_template": False,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "allow_merge_commit": True,
        "allow_squash_merge": True,
        "allow_rebase_merge": True,
        "allow_auto_merge": True,
        "delete_branch_on_merge": False,
        "archived": False,
        "disabled": False,
        "url": api,
        "html_url": urls.repo_html(repo),
        "clone_url": f"{urls.origin}/{repo.full_name}.git",
        "git_url": f"{urls.origin}/{repo.full_name}.git",
        "ssh_url": f"git@{host}:{repo.full_name}.git",
        "svn_url": urls.repo_html(repo),
        **{f"{name}_url": f"{api}/{path}" for name, path in _REPO_URLS.items()},
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


# The `*_url` fields of a repository: the name before `_url` and the path (RFC 6570 template) under it.
_REPO_URLS = {
    "archive": "{archive_format}{/ref}",
    "assignees": "assignees{/user}",
    "blobs": "git/blobs{/sha}",
    "branches": "branches{/branch}",
    "collaborators": "collaborators{/collaborator}",
    "comments": "comments{/number}",
    "commits": "commits{/sha}",
    "compare": "compare/{base}...{head}",
    "contents": "contents/{+path}",
    "contributors": "contributors",
    "deployments": "deployments",
    "downloads": "downloads",
    "events": "events",
    "forks": "forks",
    "git_commits": "git/commits{/sha}",
    "git_refs": "git/refs{/sha}",
    "git_tags": "git/tags{/sha}",
    "hooks": "hooks",
    "issue_comment": "issues/comments{/number}",
    "issue_events": "issues/events{/number}",
    "issues": "issues{/number}",
    "keys": "keys{/key_id}",
    "labels": "labels{/name}",
    "languages": "languages",
    "merges": "merges",
    "milestones": "milestones{/number}",
    "notifications": "notifications{?since,all,participating}",
    "pulls": "pulls{/number}",
    "releases": "releases{/id}",
    "stargazers": "stargazers",
    "statuses": "statuses/{sha}",
    "subscribers": "subscribers",
    "subscription": "subscription",
    "tags": "tags",
    "teams": "teams",
    "trees": "git/trees{/sha}",
}


def label_json(urls: Urls, repo: Repo, label: Label) -> Json:
    return {
        "id": label.id,
        "node_id": f"LA_{label.id}",
        "url": f"{urls.repo_api(repo)}/labels/{quote(label.name)}",
        "name": label.name,
        "color": label.color,
        "description": label.description,
        "default": False,
    }


def _verification() -> Json:
    # The emulator never signs commits.
    return {"verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


def _person(store: Store, urls: Urls, identity: Identity) -> Json | None:
    """The GitHub account of a commit's author or committer: by noreply address or by login."""
    login = identity.email.split("@", 1)[0] if identity.email.endswith("@users.noreply.github.com") else identity.name
    return user_json(store, urls, login) if login in store.users else None


def commit_json(store: Store, urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    api = f"{urls.repo_api(repo)}/commits/{info.sha}"
    html = f"{urls.repo_html(repo)}/commit/{info.sha}"
    git_commit = git_commit_json(urls, repo, info)
    git_commit.pop("sha")
    git_commit.pop("node_id")
    git_commit.pop("html_url")
    git_commit.pop("parents")
    return {
        "sha": info.sha,
        "node_id": f"C_{info.sha}",
        "commit": {**git_commit, "comment_count": 0},
        "url": api,
        "html_url": html,
        "comments_url": f"{api}/comments",
        "author": _person(store, urls, info.author),
        "committer": _person(store, urls, info.committer),
        "parents": [
            {
                "sha": parent,
                "url": f"{urls.repo_api(repo)}/commits/{parent}",
                "html_url": f"{urls.repo_html(repo)}/commit/{parent}",
            }
            for parent in info.parents
        ],
    }


def git_commit_json(urls: Urls, repo: Repo, info: CommitInfo) -> Json:
    html = f"{urls.repo_html(repo)}/commit"
    return {
        "sha": info.sha,
        "node_id": f"C_{info.sha}",
        "url": f"{urls.repo_api(repo)}/git/commits/{info.sha}",
        "html_url": f"{html}/{info.sha}",
        "message": info.message,
        "author": {"name": info.author.name, "email": info.author.email, "date": info.author_date},
        "committer": {"name": info.committer.name, "email": info.committer.email, "date": info.committer_date},
        "tree": {"sha": info.tree, "url": f"{urls.repo_api(repo)}/git/trees/{info.tree}"},
        "parents": [
            {"sha": parent, "url": f"{urls.repo_api(repo)}/git/commits/{parent}", "html_url": f"{html}/{parent}"}
            for parent in info.parents
        ],
        "verification": _verification(),
    }


def ref_json(urls: Urls, repo: Repo, ref: str, sha: str) -> Json:
    return {
        "ref": ref,
        "node_id": f"REF_{zlib.crc32(f'{repo.full_name}:{ref}'.encode())}",
        "url": f"{urls.repo_api(repo)}/git/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{urls.repo_api(repo)}/git/commits/{sha}"},
    }


def branch_json(store: Store, urls: Urls, repo: Repo, name: str, info: CommitInfo) -> Json:
    api = f"{urls.repo_api(repo)}/branches/{name}"
    return {
        "name": name,
        "commit": commit_json(store, urls, repo, info),
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{api}/protection",
        "_links": {"self": api, "html": f"{urls.repo_html(repo)}/tree/{name}"},
    }


def suite_id(repo: Repo, head_sha: str, app_login: str) -> int:
    return zlib.crc32(f"{repo.full_name}:{head_sha}:{app_login}".encode()) % 10**9


def pull_refs(urls: Urls, repo: Repo, head_sha: str) -> list[Json]:
    """The open pull requests whose head is `head_sha` (`pull-request-minimal`)."""

    def side(ref: str, sha: str) -> Json:
        return {"ref": ref, "sha": sha, "repo": {"id": repo.id, "url": urls.repo_api(repo), "name": repo.name}}

    return [
        {
            "id": pull.id,
            "number": pull.number,
            "url": f"{urls.repo_api(repo)}/pulls/{pull.number}",
            "head": side(pull.head_ref, pull.head_sha),
            "base": side(pull.base_ref, pull.base_sha),
        }
        for pull in repo.pulls.values()
        if pull.state == "open" and pull.head_sha == head_sha
    ]


def check_run_json(store: Store, urls: Urls, repo: Repo, run: CheckRun) -> Json:
    return {
        "id": run.id,
        "node_id": f"CR_{run.id}",
        "name": run.name,
        "head_sha": run.head_sha,
        # GitHub answers "" for an unset external id and the app's page for an unset details URL.
        "external_id": run.external_id or "",
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "details_url": run.details_url or f"{urls.origin}/apps/{run.app_login.removesuffix('[bot]')}",
        "output": {
            "title": run.title,
            "summary": run.summary,
            "text": run.text,
            "annotations_count": 0,
            "annotations_url": f"{urls.repo_api(repo)}/check-runs/{run.id}/annotations",
        },
        # One suite per head commit and app, as GitHub groups runs.
        "check_suite": {"id": suite_id(repo, run.head_sha, run.app_login)},
        "app": app_json(store, urls, app_for(store, run.app_login), run.app_login, repo.owner),
        "pull_requests": pull_refs(urls, repo, run.head_sha),
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
        "avatar_url": f"{urls.origin}/avatars/{status.creator}",
        "creator": user_json(store, urls, status.creator),
        "created_at": status.created_at,
        "updated_at": status.created_at,
        "url": f"{urls.repo_api(repo)}/statuses/{status.sha}",
    }
