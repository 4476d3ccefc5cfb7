"""The console's actions, posted from its pages: cancel runs, suspend or resume Agents and Meshes, start a run.

Each acts through the Kubernetes API under the console's identity (`actions`), and comes back to the page it
was posted from with a notice of what was done and what the API server refused. A console started read-only
(`--read-only`, the chart's default) refuses every POST with 403 before it reaches an action.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlparse

from aiohttp import web

from atomesh.api import Agent
from atomesh.console.actions import Outcome, cancel_runs, set_suspend, start_run
from atomesh.console.appstate import KUBE, READ_ONLY, TOKEN, USER, blocking, lookup

READ_ONLY_REFUSAL = (
    "this console is read-only: it shows, and does not act. Act with kubectl, or with `atomesh console` "
    "run with your own kubeconfig"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def refuse_writes_when_read_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every method but GET and HEAD answers 403 on a read-only console, whatever the route."""
    if request.app[READ_ONLY] and request.method not in ("GET", "HEAD"):
        raise web.HTTPForbidden(text=READ_ONLY_REFUSAL)
    return await handler(request)


async def _form(request: web.Request) -> Any:
    """The posted form, once its token and origin show it came from this console's own page."""
    origin = request.headers.get("Origin")
    if origin and urlparse(origin).netloc != request.host:
        raise web.HTTPForbidden(text=f"cross-origin request from {origin} refused")
    form = await request.post()
    if not hmac.compare_digest(str(form.get("token", "")), request.app[TOKEN]):
        raise web.HTTPForbidden(text="missing or stale console token: reload the page and try again")
    return form


def _refs(values: list[Any]) -> list[tuple[str, str]]:
    refs = []
    for value in values:
        namespace, _, name = str(value).partition("/")
        if namespace and name:
            refs.append((namespace, name))
    return refs


def _back(request: web.Request, form: Any, outcomes: list[Outcome]) -> web.HTTPSeeOther:
    done = sum(1 for outcome in outcomes if outcome.ok)
    failed = [f"{o.namespace}/{o.name}: {o.message}" for o in outcomes if not o.ok]
    notice = f"{done} of {len(outcomes)} done" + (f"; {'; '.join(failed)}" if failed else "")
    if len(outcomes) == 1 and outcomes[0].ok:
        notice = f"{outcomes[0].namespace}/{outcomes[0].name}: {outcomes[0].message}"
    back = str(form.get("back") or "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    parsed = urlparse(back)
    query = dict(
        part.split("=", 1) for part in parsed.query.split("&") if "=" in part and not part.startswith("notice=")
    )
    return web.HTTPSeeOther(f"{parsed.path}?{urlencode({**query, 'notice': notice})}")


async def cancel_action(request: web.Request) -> web.Response:
    form = await _form(request)
    refs = _refs(form.getall("run", []))
    outcomes = await blocking(cancel_runs, request.app[KUBE], refs)
    raise _back(request, form, outcomes)


async def suspend_action(request: web.Request) -> web.Response:
    form = await _form(request)
    kind = str(form.get("kind", ""))
    if kind not in ("Agent", "Mesh"):
        raise web.HTTPBadRequest(text=f"kind {kind!r} cannot be suspended: use Agent or Mesh")
    suspend = str(form.get("suspend", "")) == "true"
    outcomes = await blocking(set_suspend, request.app[KUBE], kind, _refs(form.getall("object", [])), suspend)
    raise _back(request, form, outcomes)


async def start_action(request: web.Request) -> web.Response:
    form = await _form(request)
    agent: Agent = lookup(request, "Agent")
    try:
        run_input = json.loads(str(form.get("input") or "{}"))
    except json.JSONDecodeError as exc:
        outcome = Outcome(agent.metadata.namespace or "", agent.metadata.name, False, f"input is not JSON: {exc}")
        raise _back(request, form, [outcome]) from exc
    if not isinstance(run_input, dict):
        outcome = Outcome(agent.metadata.namespace or "", agent.metadata.name, False, "input must be a JSON object")
        raise _back(request, form, [outcome])
    request_id = str(form.get("request") or secrets.token_hex(8))
    outcome = await blocking(start_run, request.app[KUBE], agent, run_input, request_id, request.app[USER])
    if outcome.ok:
        raise web.HTTPSeeOther(f"/runs/{outcome.namespace}/{outcome.name}?{urlencode({'notice': outcome.message})}")
    raise _back(request, form, [outcome])
