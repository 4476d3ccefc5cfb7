"""REST route for team membership (`teams/get-membership-for-user-in-org`), as event triggers'
`authorization.teams` read it: `GET /orgs/{org}/teams/{team_slug}/memberships/{username}` answers a
`team-membership` (role member or maintainer, state active or pending) or 404 when the user is not a
member or the team does not exist. Teams are seeded with `GitHubEmulator.add_team`. Team visibility
(secret teams seen only by their members and the organization's owners) is not emulated: any signed-in
user may ask, as an organization member may for a visible team.
"""

from __future__ import annotations

from aiohttp import web

from . import context as ctx

routes = web.RouteTableDef()
MEMBERSHIP = ctx.API_PREFIX + "/orgs/{org}/teams/{team_slug}/memberships/{username}"
DOCS = "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user"


@routes.get(MEMBERSHIP)
async def get_membership(request: web.Request) -> web.Response:
    ctx.login(request)
    svc = ctx.services(request)
    org, slug, username = (request.match_info[key] for key in ("org", "team_slug", "username"))
    with svc.store.lock:
        team = svc.store.teams.get((org.lower(), slug.lower()))
        member = team.members.get(username.lower()) if team is not None else None
    if team is None or member is None:
        ctx.fail(404, "Not Found", docs=DOCS)
    role, state = member
    # GitHub names the membership by the organization's and team's ids.
    url = f"{ctx.urls(request).api}/organizations/{team.org_id}/team/{team.id}/memberships/{username}"
    return ctx.json_response({"url": url, "role": role, "state": state})
