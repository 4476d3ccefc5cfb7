"""REST routes for pull request reviews and review (line) comments. `submit_review` is shared with
the HTML view."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import context as ctx
from . import events
from .conversations import line_comment_json, review_json
from .payloads import Urls
from .pulls import find_pull
from .store import LineComment, Pull, Repo, Review, now_iso

routes = web.RouteTableDef()
REPO = ctx.API_PREFIX + "/repos/{owner}/{repo}"
VERDICTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
COMMENT_DOCS = "https://docs.github.com/rest/pulls/comments#create-a-review-comment-for-a-pull-request"


def line_comment(
    svc: ctx.Services,
    who: str,
    raw: dict[str, Any],
    commit_id: str,
    created_at: str,
    *,
    review_id: int | None = None,
    in_reply_to_id: int | None = None,
) -> LineComment:
    """A line comment from its JSON (`path`, `body`, `line` or the older `position`, `side`)."""
    line = raw.get("line", raw.get("position"))
    return LineComment(
        id=svc.store.new_id(),
        user=who,
        body=raw["body"],
        path=raw["path"],
        line=int(line) if line is not None else None,
        side=str(raw.get("side", "RIGHT")),
        commit_id=commit_id,
        created_at=created_at,
        review_id=review_id,
        in_reply_to_id=in_reply_to_id,
    )


def submit_review(
    svc: ctx.Services,
    urls: Urls,
    repo: Repo,
    pull: Pull,
    who: str,
    event: str | None,
    body: str,
    comments: list[dict[str, Any]] | None = None,
    commit_id: str | None = None,
) -> Review:
    """Record a review (and its line comments); a submitted one is delivered as `pull_request_review`.
    Rejections are this operation's `validation-error-simple`: "Unprocessable Entity" and the
    reasons as strings."""
    state = VERDICTS.get(event or "", "PENDING")
    if event and event not in VERDICTS:
        ctx.unprocessable(f"Event {event!r} is not one of APPROVE, REQUEST_CHANGES, COMMENT", docs=REVIEW_DOCS)
    if state in ("APPROVED", "CHANGES_REQUESTED") and who == pull.user:
        verb = "approve" if state == "APPROVED" else "request changes on"
        ctx.unprocessable(f"Can not {verb} your own pull request", docs=REVIEW_DOCS)
    # The description: `body` is required "when using REQUEST_CHANGES or COMMENT for the event parameter".
    if state in ("CHANGES_REQUESTED", "COMMENTED") and not body.strip() and not comments:
        ctx.unprocessable("Body is required for this event", docs=REVIEW_DOCS)
    if not all(isinstance(raw.get("path"), str) and isinstance(raw.get("body"), str) for raw in comments or []):
        ctx.unprocessable("Pull request review thread path is invalid", docs=REVIEW_DOCS)
    if comments:
        # A line comment belongs to a file the pull request changes; GitHub refuses the whole review.
        changed = {change.path for change in svc.storage.changed_files(repo.full_name, pull.base_sha, pull.head_sha)}
        if any(raw["path"] not in changed for raw in comments):
            ctx.unprocessable(
                "Pull request review thread path is invalid and Pull request review thread diff hunk can't be blank",
                docs=REVIEW_DOCS,
            )
    stamp = now_iso()
    with svc.store.lock:
        review = Review(
            id=svc.store.new_id(),
            user=who,
            body=body,
            state=state,
            commit_id=commit_id or pull.head_sha,
            submitted_at=None if state == "PENDING" else stamp,
        )
        for raw in comments or []:
            pull.line_comments.append(line_comment(svc, who, raw, review.commit_id, stamp, review_id=review.id))
        pull.reviews.append(review)
        if state != "PENDING" and who in pull.requested_reviewers:
            pull.requested_reviewers.remove(who)
        pull.touch()
    if state != "PENDING":
        events.pull_request_review(svc, urls, repo, pull, review, who)
        for comment in pull.line_comments:
            if comment.review_id == review.id:
                events.review_comment(svc, urls, repo, pull, comment, who)
    return review


@routes.get(REPO + "/pulls/{number}/reviews")
async def list_reviews(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    urls = ctx.urls(request)
    return ctx.paginate(request, [review_json(svc.store, urls, repo, pull, review) for review in pull.reviews])


@routes.get(REPO + "/pulls/{number}/reviews/{review:\\d+}")
async def get_review(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    review = next((r for r in pull.reviews if r.id == int(request.match_info["review"])), None)
    if review is None:
        ctx.fail(404, "Not Found")
    return ctx.json_response(review_json(svc.store, ctx.urls(request), repo, pull, review))


@routes.get(REPO + "/pulls/{number}/reviews/{review:\\d+}/comments")
async def review_comments(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    wanted = int(request.match_info["review"])
    urls = ctx.urls(request)
    items = [line_comment_json(svc.store, urls, repo, pull, c) for c in pull.line_comments if c.review_id == wanted]
    return ctx.paginate(request, items)


@routes.post(REPO + "/pulls/{number}/reviews")
async def create_review(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    review = submit_review(
        svc,
        ctx.urls(request),
        repo,
        pull,
        who,
        data.get("event"),
        str(data.get("body") or ""),
        list(data.get("comments") or []),
        data.get("commit_id"),
    )
    return ctx.json_response(review_json(svc.store, ctx.urls(request), repo, pull, review))


@routes.get(REPO + "/pulls/{number}/comments")
async def list_line_comments(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    urls = ctx.urls(request)
    return ctx.paginate(request, [line_comment_json(svc.store, urls, repo, pull, c) for c in pull.line_comments])


@routes.post(REPO + "/pulls/{number}/comments")
async def create_line_comment(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    if not isinstance(data.get("body"), str) or not isinstance(data.get("path"), str):
        field = "body" if not isinstance(data.get("body"), str) else "path"
        ctx.validation_failed("PullRequestReviewComment", None, "missing_field", field, docs=COMMENT_DOCS)
    commit_id = str(data.get("commit_id") or pull.head_sha)
    comment = line_comment(svc, who, data, commit_id, now_iso(), in_reply_to_id=data.get("in_reply_to"))
    with svc.store.lock:
        pull.line_comments.append(comment)
        pull.touch()
    events.review_comment(svc, ctx.urls(request), repo, pull, comment, who)
    body = line_comment_json(svc.store, ctx.urls(request), repo, pull, comment)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})
