"""REST routes for one issue comment and its reactions (GitHub's `reactions` API for issue comments):
get a comment by id, and react to it. A second identical reaction by the same person is answered 200
with the first, as GitHub does; an unknown reaction type is 422."""

from __future__ import annotations

from aiohttp import web

from . import context as ctx
from .conversations import REACTIONS, comment_json
from .people import user_json
from .store import IssueComment, Reaction, Repo, Thread, now_iso

routes = web.RouteTableDef()
COMMENT = ctx.API_PREFIX + "/repos/{owner}/{repo}/issues/comments/{comment_id}"
REACTION_DOCS = "https://docs.github.com/rest/reactions/reactions#create-reaction-for-an-issue-comment"


def find_comment(request: web.Request, repo: Repo) -> tuple[Thread, IssueComment]:
    try:
        wanted = int(request.match_info["comment_id"])
    except ValueError:
        ctx.fail(404, "Not Found")
    threads: list[Thread] = [*repo.issues.values(), *repo.pulls.values()]
    found = next(((t, c) for t in threads for c in t.comments if c.id == wanted), None)
    if found is None:
        ctx.fail(404, "Not Found")
    return found


@routes.get(COMMENT)
async def get_comment(request: web.Request) -> web.Response:
    repo, _ = ctx.signed_in(request)
    svc = ctx.services(request)
    thread, comment = find_comment(request, repo)
    return ctx.json_response(comment_json(svc.store, ctx.urls(request), repo, thread, comment))


@routes.post(COMMENT + "/reactions")
async def create_reaction(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request)
    svc = ctx.services(request)
    _, comment = find_comment(request, repo)
    data = await ctx.body(request)
    content = data.get("content")
    if content not in REACTIONS:
        ctx.validation_failed("Reaction", None, "invalid", "content", docs=REACTION_DOCS)
    with svc.store.lock:
        found = next((r for r in comment.reactions if (r.user, r.content) == (who, content)), None)
        created = found is None
        if found is None:
            found = Reaction(id=svc.store.new_id(), user=who, content=str(content), created_at=now_iso())
            comment.reactions.append(found)
    body = {
        "id": found.id,
        "node_id": f"REA_{found.id}",
        "user": user_json(svc.store, ctx.urls(request), found.user),
        "content": found.content,
        "created_at": found.created_at,
    }
    return ctx.json_response(body, status=201 if created else 200)
