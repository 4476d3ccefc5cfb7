"""REST routes for GitHub Apps: the app itself, a repository's installation, installation tokens.

Requests authenticate with an RS256 JWT signed by the app's private key (as PyGithub's AppAuth
makes them); a minted token acts as `<slug>[bot]` with write access, expiring in an hour.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from . import context as ctx

routes = web.RouteTableDef()
P = ctx.API_PREFIX
REPO = P + "/repos/{owner}/{repo}"


@routes.get(REPO + "/installation")
async def repo_installation(request: web.Request) -> web.Response:
    app_id = ctx.app_id_from_jwt(request)
    app = ctx.services(request).store.apps[app_id]
    return ctx.json_response(
        {"id": app.installation_id, "app_id": app.id, "app_slug": app.slug, "target_type": "Organization"}
    )


@routes.get(P + "/app")
async def get_app(request: web.Request) -> web.Response:
    app = ctx.services(request).store.apps[ctx.app_id_from_jwt(request)]
    return ctx.json_response({"id": app.id, "slug": app.slug, "name": app.slug, "owner": None})


@routes.post(P + "/app/installations/{installation:\\d+}/access_tokens")
async def installation_token(request: web.Request) -> web.Response:
    store = ctx.services(request).store
    app = store.apps[ctx.app_id_from_jwt(request)]
    if int(request.match_info["installation"]) != app.installation_id:
        ctx.fail(404, "Not Found")
    expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = "ghs_" + secrets.token_hex(18)
    store.add_token(value, f"{app.slug}[bot]", expires_at=expires, installation_id=app.installation_id)
    store.users[f"{app.slug}[bot]"].type = "Bot"
    return ctx.json_response(
        {
            "token": value,
            "expires_at": expires,
            "permissions": {"contents": "write", "pull_requests": "write", "checks": "write"},
            "repository_selection": "all",
        },
        status=201,
    )
