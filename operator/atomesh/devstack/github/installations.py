"""REST routes for GitHub Apps: the app itself, a repository's installation, installation tokens.

Requests authenticate with an RS256 JWT signed by the app's private key (as PyGithub's AppAuth
makes them); a minted token acts as `<slug>[bot]` with write access, expiring in an hour.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from . import context as ctx
from .people import JOINED, app_json, user_json

routes = web.RouteTableDef()
P = ctx.API_PREFIX
REPO = P + "/repos/{owner}/{repo}"


PERMISSIONS = {"checks": "write", "contents": "write", "metadata": "read", "pull_requests": "write"}


@routes.get(REPO + "/installation")
async def repo_installation(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    app = svc.store.apps[ctx.app_id_from_jwt(request)]
    found = svc.store.repo(f"{request.match_info['owner']}/{request.match_info['repo']}")
    if found is None:
        ctx.fail(404, "Not Found")
    # The emulated app is installed on the account that owns the repository, for all its repositories.
    urls = ctx.urls(request)
    account = svc.store.users.get(found.owner) or svc.store.add_user(found.owner)
    return ctx.json_response(
        {
            "id": app.installation_id,
            "app_id": app.id,
            "app_slug": app.slug,
            "client_id": f"Iv1.{app.id:016x}",
            "account": user_json(svc.store, urls, found.owner),
            "target_id": account.id,
            "target_type": account.type,
            "repository_selection": "all",
            "single_file_name": None,
            "access_tokens_url": f"{urls.api}/app/installations/{app.installation_id}/access_tokens",
            "repositories_url": f"{urls.api}/installation/repositories",
            "html_url": f"{urls.origin}/settings/installations/{app.installation_id}",
            "events": ["check_run", "pull_request", "push"],
            "permissions": PERMISSIONS,
            "created_at": JOINED,
            "updated_at": JOINED,
            "suspended_by": None,
            "suspended_at": None,
        }
    )


@routes.get(P + "/app")
async def get_app(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    app = svc.store.apps[ctx.app_id_from_jwt(request)]
    # Apps here are registered by the dev stack's organization owner (the first organization), as
    # a company registers its bot; with no organization, by the app's own bot account.
    owner = next((u.login for u in svc.store.users.values() if u.type == "Organization"), f"{app.slug}[bot]")
    return ctx.json_response(app_json(svc.store, ctx.urls(request), app, app.slug, owner))


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
            "permissions": PERMISSIONS,
            "repository_selection": "all",
        },
        status=201,
    )
