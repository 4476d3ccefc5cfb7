"""Asking for reviews on GitHub without letting one wrong name cost the others.

GitHub refuses a whole review request with 422 when one of the users or teams named is not a
collaborator of the repository (or is the PR's author), and requests no one. A publish must not
fail for that, and the reviewers who are collaborators must still be asked: after a refused batch
each name is requested alone, and the ones GitHub refuses are returned for the caller to report.
"""

from __future__ import annotations

from github.PullRequest import PullRequest

from .retry import GitHubForgeError, Retrier


def request_reviews(retrier: Retrier, pr: PullRequest, where: str, users: list[str], teams: list[str]) -> list[str]:
    """Request `users` and `teams` on `pr`; returns the names GitHub refused (teams as `team:slug`)."""
    if not users and not teams:
        return []
    try:
        retrier.call(
            f"request reviewers on {where}", lambda: pr.create_review_request(reviewers=users, team_reviewers=teams)
        )
        return []
    except GitHubForgeError as exc:
        if exc.status != 422:
            raise
    refused = []
    for user in users:
        if not _one(retrier, pr, where, [user], []):
            refused.append(user)
    for slug in teams:
        if not _one(retrier, pr, where, [], [slug]):
            refused.append(f"team:{slug}")
    return refused


def _one(retrier: Retrier, pr: PullRequest, where: str, users: list[str], teams: list[str]) -> bool:
    try:
        retrier.call(
            f"request review from {', '.join(users + teams)} on {where}",
            lambda: pr.create_review_request(reviewers=users, team_reviewers=teams),
        )
    except GitHubForgeError as exc:
        if exc.status != 422:
            raise
        return False
    return True
