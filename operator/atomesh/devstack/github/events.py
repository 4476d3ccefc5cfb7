"""Webhook events the emulator emits, and keeping pull requests in step with pushed refs."""

from __future__ import annotations

from typing import Any

from .context import Services
from .conversations import comment_json, issue_json, pull_json, review_json
from .payloads import Urls, repo_json
from .people import user_json
from .store import IssueComment, Pull, Repo, Review

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


def issue_comment(svc: Services, urls: Urls, repo: Repo, pull: Pull, comment: IssueComment, sender: str) -> None:
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
