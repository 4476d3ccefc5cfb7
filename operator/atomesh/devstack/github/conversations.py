"""JSON shapes of a pull request and its conversation: the pull request, its issue view, reviews,
review (line) comments and issue comments, complete as GitHub's description requires them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .payloads import Urls, label_json, repo_json
from .people import author_association, team_json, user_json
from .repos import GitStorage
from .store import Issue, IssueComment, LineComment, Pull, Reaction, Repo, Review, Store, Thread

Json = dict[str, Any]


def _link(href: str) -> Json:
    return {"href": href}


REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


def reactions(api: str, given: Sequence[Reaction] = ()) -> Json:
    """The reaction rollup of an issue or comment (reactions are kept on issue comments only)."""
    counts = {kind: sum(1 for reaction in given if reaction.content == kind) for kind in REACTIONS}
    return {"url": f"{api}/reactions", "total_count": len(given), **counts}


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
    statuses = f"{urls.repo_api(repo)}/statuses/{pull.head_sha}"
    review_comment = f"{urls.repo_api(repo)}/pulls/comments{{/number}}"
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
        "body": pull.body or None,
        "user": user_json(store, urls, pull.user),
        "author_association": author_association(store, repo, pull.user),
        "draft": pull.draft,
        "labels": [label_json(urls, repo, repo.labels[name]) for name in pull.labels if name in repo.labels],
        "requested_reviewers": [user_json(store, urls, login) for login in pull.requested_reviewers],
        "requested_teams": [team_json(urls, repo, slug) for slug in pull.requested_teams],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "auto_merge": None,
        "active_lock_reason": None,
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
        "review_comment_url": review_comment,
        "comments_url": f"{issue_api}/comments",
        "statuses_url": statuses,
        "_links": {
            "self": _link(api),
            "html": _link(html),
            "issue": _link(issue_api),
            "comments": _link(f"{issue_api}/comments"),
            "review_comments": _link(f"{api}/comments"),
            "review_comment": _link(review_comment),
            "commits": _link(f"{api}/commits"),
            "statuses": _link(statuses),
        },
    }


def issue_json(store: Store, urls: Urls, repo: Repo, pull: Thread) -> Json:
    """An `issue`: a standalone issue, or a pull request as the issues API shows it."""
    api = f"{urls.repo_api(repo)}/issues/{pull.number}"
    if isinstance(pull, Issue):
        reason = pull.state_reason
    else:
        reason = ("completed" if pull.merged else "not_planned") if pull.state == "closed" else None
    body: Json = {
        "id": pull.id,
        "node_id": f"I_{pull.id}",
        "number": pull.number,
        "state": pull.state,
        "state_reason": reason,
        "locked": False,
        "active_lock_reason": None,
        "title": pull.title,
        "body": pull.body or None,
        "user": user_json(store, urls, pull.user),
        "author_association": author_association(store, repo, pull.user),
        "labels": [label_json(urls, repo, repo.labels[name]) for name in pull.labels if name in repo.labels],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": len(pull.comments),
        "created_at": pull.created_at,
        "updated_at": pull.updated_at,
        "closed_at": pull.closed_at,
        "closed_by": user_json(store, urls, pull.closed_by),
        "url": api,
        "html_url": thread_html(urls, repo, pull),
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "labels_url": f"{api}/labels{{/name}}",
        "repository_url": urls.repo_api(repo),
        "reactions": reactions(api),
        "performed_via_github_app": None,
    }
    # Only a pull request's issue view says it is one.
    if isinstance(pull, Pull):
        body["draft"] = pull.draft
        body["pull_request"] = {
            "url": f"{urls.repo_api(repo)}/pulls/{pull.number}",
            "html_url": f"{urls.repo_html(repo)}/pull/{pull.number}",
            "diff_url": f"{urls.repo_html(repo)}/pull/{pull.number}.diff",
            "patch_url": f"{urls.repo_html(repo)}/pull/{pull.number}.patch",
            "merged_at": pull.merged_at,
        }
    return body


def thread_html(urls: Urls, repo: Repo, thread: Thread) -> str:
    kind = "pull" if isinstance(thread, Pull) else "issues"
    return f"{urls.repo_html(repo)}/{kind}/{thread.number}"


def review_json(store: Store, urls: Urls, repo: Repo, pull: Pull, review: Review) -> Json:
    html = f"{urls.repo_html(repo)}/pull/{pull.number}#pullrequestreview-{review.id}"
    pull_api = f"{urls.repo_api(repo)}/pulls/{pull.number}"
    body: Json = {
        "id": review.id,
        "node_id": f"PRR_{review.id}",
        "user": user_json(store, urls, review.user),
        "body": review.body,
        "state": review.state,
        "commit_id": review.commit_id,
        "author_association": author_association(store, repo, review.user),
        "html_url": html,
        "pull_request_url": pull_api,
        "_links": {"html": _link(html), "pull_request": _link(pull_api)},
    }
    # A pending review has not been submitted: GitHub leaves the field out.
    if review.submitted_at is not None:
        body["submitted_at"] = review.submitted_at
    return body


def line_comment_json(store: Store, urls: Urls, repo: Repo, pull: Pull, comment: LineComment) -> Json:
    api = f"{urls.repo_api(repo)}/pulls/comments/{comment.id}"
    html = f"{urls.repo_html(repo)}/pull/{pull.number}#discussion_r{comment.id}"
    pull_api = f"{urls.repo_api(repo)}/pulls/{pull.number}"
    body: Json = {
        "id": comment.id,
        "node_id": f"PRRC_{comment.id}",
        "pull_request_review_id": comment.review_id,
        "user": user_json(store, urls, comment.user),
        "author_association": author_association(store, repo, comment.user),
        "body": comment.body,
        "path": comment.path,
        "line": comment.line,
        "original_line": comment.line,
        "side": comment.side,
        # A single-line comment has no start of a range.
        "start_line": None,
        "original_start_line": None,
        "start_side": None,
        "position": comment.line,
        "original_position": comment.line,
        "subject_type": "line",
        "commit_id": comment.commit_id,
        "original_commit_id": comment.commit_id,
        "diff_hunk": f"@@ -{comment.line or 1} +{comment.line or 1} @@",
        "created_at": comment.created_at,
        "updated_at": comment.created_at,
        "url": api,
        "html_url": html,
        "pull_request_url": pull_api,
        "_links": {"self": _link(api), "html": _link(html), "pull_request": _link(pull_api)},
        "reactions": reactions(api),
    }
    # Only a reply names what it replies to; GitHub omits the field otherwise (never null).
    if comment.in_reply_to_id is not None:
        body["in_reply_to_id"] = comment.in_reply_to_id
    return body


def comment_json(store: Store, urls: Urls, repo: Repo, pull: Thread, comment: IssueComment) -> Json:
    return {
        "id": comment.id,
        "node_id": f"IC_{comment.id}",
        "user": user_json(store, urls, comment.user),
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "author_association": author_association(store, repo, comment.user),
        "reactions": reactions(f"{urls.repo_api(repo)}/issues/comments/{comment.id}", comment.reactions),
        "performed_via_github_app": None,
        "url": f"{urls.repo_api(repo)}/issues/comments/{comment.id}",
        "html_url": f"{thread_html(urls, repo, pull)}#issuecomment-{comment.id}",
        "issue_url": f"{urls.repo_api(repo)}/issues/{pull.number}",
    }
