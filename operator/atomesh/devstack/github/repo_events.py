"""REST route of the repository events API, `GET /repos/{owner}/{repo}/events` (what it lists and how
is in activity.py): pages of up to 100 events, newest first, with `X-Poll-Interval`; the app's ETag
middleware answers a matching `If-None-Match` with 304, which repeats `X-Poll-Interval` as GitHub's does."""

from __future__ import annotations

from aiohttp import web

from . import context as ctx

routes = web.RouteTableDef()


@routes.get(ctx.API_PREFIX + "/repos/{owner}/{repo}/events")
async def list_repo_events(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    activity = ctx.services(request).dispatcher.activity
    response = ctx.paginate(request, activity.events(repo))
    response.headers["X-Poll-Interval"] = str(activity.poll_interval)
    return response
