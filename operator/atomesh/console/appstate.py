"""What the console's request handlers share: the application's state keys, the cache lookup of one object
for a page or an action, and running a blocking call (a request to the API server) off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from atomesh.console.cache import ClusterCache
from atomesh.console.views import OverviewMemo
from atomesh.kube.client import Kube
from atomesh.kube.watch import KubeReader

CACHE: web.AppKey[ClusterCache] = web.AppKey("cache", ClusterCache)
KUBE: web.AppKey[Kube] = web.AppKey("kube", Kube)
READER: web.AppKey[KubeReader] = web.AppKey("reader", KubeReader)
MEMO: web.AppKey[OverviewMemo] = web.AppKey("memo", OverviewMemo)
TOKEN: web.AppKey[str] = web.AppKey("token", str)
USER: web.AppKey[str] = web.AppKey("user", str)
CHANGED: web.AppKey[asyncio.Condition] = web.AppKey("changed", asyncio.Condition)
REFRESHES: web.AppKey[list[int]] = web.AppKey("refreshes", list)
PAGE_VIEWS: web.AppKey[list[int]] = web.AppKey("page_views", list)
READ_ONLY: web.AppKey[bool] = web.AppKey("read_only", bool)
CLOSING: web.AppKey[list[bool]] = web.AppKey("closing", list)  # the console is shutting down


def lookup(request: web.Request, kind: str) -> Any:
    """The object of the URL's namespace and name from the cache; 404 when the cache has none (so an object
    the identity may not read answers exactly as one that does not exist)."""
    found = request.app[CACHE].get(kind, request.match_info["namespace"], request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text=f"{kind} {request.match_info['namespace']}/{request.match_info['name']} not found")
    return found


async def blocking(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)
