"""REST routes for repository webhooks and their delivery log (deliveries themselves: hooks.py)."""

from __future__ import annotations

from aiohttp import web

from . import context as ctx
from .payloads import repo_json
from .people import user_json
from .store import Hook, Repo

routes = web.RouteTableDef()
REPO = ctx.API_PREFIX + "/repos/{owner}/{repo}"
CREATE_DOCS = "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook"


def hook_json(request: web.Request, found: Repo, hook: Hook) -> dict[str, object]:
    api = f"{ctx.urls(request).repo_api(found)}/hooks/{hook.id}"
    log = ctx.services(request).dispatcher.completed()
    last = next((d for d in reversed(log) if d.hook_id == hook.id), None)
    if last is None:
        response: dict[str, object] = {"code": None, "status": "unused", "message": None}
    elif last.status is not None:
        response = {"code": last.status, "status": "active", "message": "OK" if last.status < 300 else "failed"}
    else:
        response = {"code": None, "status": "failed", "message": last.error}
    return {
        "id": hook.id,
        "type": "Repository",
        "name": "web",
        "active": hook.active,
        "events": hook.events or ["push"],
        # GitHub never returns a hook's secret, only that one is set (and no `secret` key without one).
        "config": {
            "url": hook.url,
            "content_type": hook.content_type,
            "insecure_ssl": "0",
            **({"secret": "********"} if hook.secret else {}),
        },
        "created_at": hook.created_at,
        "updated_at": hook.created_at,
        "last_response": response,
        "url": api,
        "test_url": f"{api}/tests",
        "ping_url": f"{api}/pings",
        "deliveries_url": f"{api}/deliveries",
    }


@routes.get(REPO + "/hooks")
async def list_hooks(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request, "admin")
    return ctx.paginate(request, [hook_json(request, found, hook) for hook in found.hooks])


@routes.post(REPO + "/hooks")
async def create_hook(request: web.Request) -> web.Response:
    found, who = ctx.repo(request, "admin")
    svc = ctx.services(request)
    data = await ctx.body(request)
    config = data.get("config") or {}
    url = config.get("url") if isinstance(config, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        ctx.validation_failed("Hook", "config.url must be an http(s) URL", "custom", "config.url", docs=CREATE_DOCS)
    if any(hook.url == url for hook in found.hooks):
        ctx.validation_failed("Hook", "Hook already exists on this repository", docs=CREATE_DOCS)
    events = data.get("events") or ["push"]
    hook = Hook(
        id=svc.store.new_id(),
        url=url,
        secret=config.get("secret") or None,
        events=[str(event) for event in events],
        active=bool(data.get("active", True)),
        content_type=str(config.get("content_type", "json")),
    )
    found.hooks.append(hook)
    body = hook_json(request, found, hook)
    # GitHub pings the new hook alone, whatever events it subscribed to.
    _ping(request, found, hook, who)
    return ctx.json_response(body, status=201, headers={"Location": str(body["url"])})


def _ping(request: web.Request, found: Repo, hook: Hook, who: str | None) -> None:
    svc = ctx.services(request)
    ping = {
        "zen": "Keep it logically awesome.",
        "hook_id": hook.id,
        "hook": hook_json(request, found, hook),
        "repository": repo_json(svc.store, ctx.urls(request), found),
        "sender": user_json(svc.store, ctx.urls(request), who or found.owner),
    }
    svc.dispatcher.emit(found, "ping", ping, only=hook)


@routes.post(REPO + "/hooks/{id:\\d+}/pings")
async def ping_hook(request: web.Request) -> web.Response:
    """GitHub's "Ping a repository webhook": a `ping` to that hook alone."""
    found, who = ctx.repo(request, "admin")
    hook = next((h for h in found.hooks if h.id == int(request.match_info["id"])), None)
    if hook is None:
        ctx.fail(404, "Not Found")
    _ping(request, found, hook, who)
    return web.Response(status=204)


@routes.get(REPO + "/hooks/{id:\\d+}")
async def get_hook(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request, "admin")
    hook = next((h for h in found.hooks if h.id == int(request.match_info["id"])), None)
    if hook is None:
        ctx.fail(404, "Not Found")
    return ctx.json_response(hook_json(request, found, hook))


@routes.delete(REPO + "/hooks/{id:\\d+}")
async def delete_hook(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request, "admin")
    before = len(found.hooks)
    found.hooks[:] = [hook for hook in found.hooks if hook.id != int(request.match_info["id"])]
    return web.Response(status=204 if len(found.hooks) < before else 404)


@routes.get(REPO + "/hooks/{id:\\d+}/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request, "admin")
    log = ctx.services(request).dispatcher.log
    hook_id = int(request.match_info["id"])
    items = [
        {
            "id": index,
            "guid": d.id,
            "event": d.event,
            "action": d.action,
            "status_code": d.status or 0,
            "status": "OK" if d.status and d.status < 300 else "failed",
            "redelivery": d.redelivery,
            "delivered_at": d.created_at,
            "duration": 0.0,
            "installation_id": None,
            "repository_id": found.id,
        }
        for index, d in enumerate(log, start=1)
        if d.hook_id == hook_id
    ]
    return ctx.paginate(request, list(reversed(items)))


@routes.post(REPO + "/hooks/{id:\\d+}/deliveries/{delivery:\\d+}/attempts")
async def redeliver(request: web.Request) -> web.Response:
    ctx.repo(request, "admin")
    dispatcher = ctx.services(request).dispatcher
    index = int(request.match_info["delivery"])
    if not 1 <= index <= len(dispatcher.log):
        ctx.fail(404, "Not Found")
    dispatcher.redeliver(dispatcher.log[index - 1].id)
    return ctx.json_response({}, status=202)
