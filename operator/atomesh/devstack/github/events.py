"""Webhook events the emulator emits (those of moving refs: pushes.py), and keeping pull requests in
step with pushed refs."""

from __future__ import annotations

from typing import Any

from .context import Services
from .conversations import comment_json, issue_json, line_comment_json, pull_json, review_json
from .payloads import Urls, check_run_json, commit_json, label_json, repo_json, status_json
from .people import user_json
from .store import CheckRun, CommitStatus, Issue, IssueComment, Label, LineComment, Pull, Repo, Review, Thread
from .suites import suite_json

Json = dict[str, Any]


def _envelope(svc: Services, urls: Urls, repo: Repo, action: str, sender: str | None) -> Json:
    return {
        "action": action,
        "repository": repo_json(svc.store, urls, repo),
        "sender": user_json(svc.store, urls, sender or repo.owner),
    }


def pull_request(
    svc: Services, urls: Urls, repo: Repo, pull: Pull, action: str, sender: str | None, **extra: Any
) -> None:
    payload = _envelope(svc, urls, repo, action, sender)
    payload.update(number=pull.number, pull_request=pull_json(svc.store, urls, repo, pull, svc.storage), **extra)
    svc.dispatcher.emit(repo, "pull_request", payload)


def pull_request_review(svc: Services, urls: Urls, repo: Repo, pull: Pull, review: Review, sender: str) -> None:
    payload = _envelope(svc, urls, repo, "submitted", sender)
    shape = review_json(svc.store, urls, repo, pull, review)
    # Webhook payloads spell review states in lower case, unlike the REST API.
    shape["state"] = review.state.lower()
    payload.update(review=shape, pull_request=pull_json(svc.store, urls, repo, pull, svc.storage))
    svc.dispatcher.emit(repo, "pull_request_review", payload)


def issue_comment(svc: Services, urls: Urls, repo: Repo, pull: Thread, comment: IssueComment, sender: str) -> None:
    payload = _envelope(svc, urls, repo, "created", sender)
    payload.update(
        issue=issue_json(svc.store, urls, repo, pull), comment=comment_json(svc.store, urls, repo, pull, comment)
    )
    svc.dispatcher.emit(repo, "issue_comment", payload)


def sync_pulls(svc: Services, urls: Urls, repo: Repo, sender: str | None) -> None:
    """After refs moved (a push, a ref API call, a merge), refresh open PRs: a new head is `synchronize`."""
    branches = svc.storage.branches(repo.full_name)
    changed = []
    with svc.store.lock:
        for pull in repo.pulls.values():
            if pull.state != "open":
                continue
            base = branches.get(pull.base_ref)
            if base is not None:
                pull.base_sha = base
            head = branches.get(pull.head_ref)
            if head is not None and head != pull.head_sha:
                before = pull.head_sha
                pull.head_sha = head
                pull.touch()
                changed.append((pull, before))
    for pull, before in changed:
        pull_request(svc, urls, repo, pull, "synchronize", sender, before=before, after=pull.head_sha)


def pull_request_label(
    svc: Services, urls: Urls, repo: Repo, pull: Pull, label: Label, action: str, sender: str
) -> None:
    """`labeled` or `unlabeled`, naming the label."""
    pull_request(svc, urls, repo, pull, action, sender, label=label_json(urls, repo, label))


def review_request(svc: Services, urls: Urls, repo: Repo, pull: Pull, login: str, action: str, sender: str) -> None:
    """`review_requested` or `review_request_removed` for one requested user."""
    pull_request(svc, urls, repo, pull, action, sender, requested_reviewer=user_json(svc.store, urls, login))


def review_comment(svc: Services, urls: Urls, repo: Repo, pull: Pull, comment: LineComment, sender: str) -> None:
    payload = _envelope(svc, urls, repo, "created", sender)
    payload.update(
        comment=line_comment_json(svc.store, urls, repo, pull, comment),
        pull_request=pull_json(svc.store, urls, repo, pull, svc.storage),
    )
    svc.dispatcher.emit(repo, "pull_request_review_comment", payload)


def label(svc: Services, urls: Urls, repo: Repo, found: Label, action: str, sender: str) -> None:
    """`label` `created` or `deleted`: a repository's labels changed."""
    payload = _envelope(svc, urls, repo, action, sender)
    payload["label"] = label_json(urls, repo, found)
    svc.dispatcher.emit(repo, "label", payload)


def check_run(svc: Services, urls: Urls, repo: Repo, run: CheckRun, action: str, sender: str) -> None:
    """`check_run` `created` or `completed`."""
    payload = _envelope(svc, urls, repo, action, sender)
    # Webhooks show the run's suite in full (`simple-check-suite`); the REST API only its id.
    payload["check_run"] = check_run_json(svc.store, urls, repo, run) | {
        "check_suite": suite_json(svc, urls, repo, run.head_sha, run.app_login)
    }
    svc.dispatcher.emit(repo, "check_run", payload)


def status(svc: Services, urls: Urls, repo: Repo, found: CommitStatus, sender: str) -> None:
    """`status`: a commit status was set; names the branches whose tip is that commit."""
    info = svc.storage.commit(repo.full_name, found.sha)
    branches = [
        {"name": name, "commit": {"sha": sha, "url": f"{urls.repo_api(repo)}/commits/{sha}"}, "protected": False}
        for name, sha in sorted(svc.storage.branches(repo.full_name).items())
        if sha == found.sha
    ]
    body = status_json(svc.store, urls, repo, found)
    payload = {
        "id": found.id,
        "sha": found.sha,
        "name": repo.full_name,
        "target_url": found.target_url,
        "context": found.context,
        "description": found.description,
        "state": found.state,
        "avatar_url": body["avatar_url"],
        "commit": commit_json(svc.store, urls, repo, info),
        "branches": branches[:10],
        "created_at": found.created_at,
        "updated_at": found.created_at,
        "repository": repo_json(svc.store, urls, repo),
        "sender": user_json(svc.store, urls, sender),
    }
    svc.dispatcher.emit(repo, "status", payload)


def issues(svc: Services, urls: Urls, repo: Repo, issue: Issue, action: str, sender: str, **extra: Any) -> None:
    """`issues` opened, edited, closed, reopened, labeled or unlabeled (extra: changes, label)."""
    payload = _envelope(svc, urls, repo, action, sender)
    payload.update(issue=issue_json(svc.store, urls, repo, issue), **extra)
    svc.dispatcher.emit(repo, "issues", payload)
