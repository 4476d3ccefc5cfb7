"""REST routes for repository labels and the labels of a pull request (its issue)."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from . import context as ctx
from . import events
from .issues import find_thread
from .payloads import Urls, label_json
from .store import Issue, Label, Repo, Thread

routes = web.RouteTableDef()
REPO = ctx.API_PREFIX + "/repos/{owner}/{repo}"
DEFAULT_COLOR = "ededed"
CREATE_DOCS = "https://docs.github.com/rest/issues/labels#create-a-label"
REMOVE_DOCS = "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"


def ensure_label(svc: ctx.Services, repo: Repo, name: str, color: str = DEFAULT_COLOR, description: str = "") -> Label:
    with svc.store.lock:
        found = repo.labels.get(name)
        if found is None:
            found = Label(name=name, color=color, id=svc.store.new_id(), description=description)
            repo.labels[name] = found
        return found


@routes.get(REPO + "/labels")
async def list_labels(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    urls = ctx.urls(request)
    return ctx.paginate(request, [label_json(urls, repo, label) for label in repo.labels.values()])


@routes.get(REPO + "/labels/{name}")
async def get_label(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    label = repo.labels.get(unquote(request.match_info["name"]))
    if label is None:
        ctx.fail(404, "Not Found")
    return ctx.json_response(label_json(ctx.urls(request), repo, label))


@routes.post(REPO + "/labels")
async def create_label(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    data = await ctx.body(request)
    name, color = data.get("name"), str(data.get("color") or DEFAULT_COLOR).lstrip("#")
    if not isinstance(name, str) or not name:
        ctx.validation_failed("Label", None, "missing_field", "name", docs=CREATE_DOCS)
    if len(color) != 6 or any(c not in "0123456789abcdefABCDEF" for c in color):
        ctx.validation_failed("Label", None, "invalid", "color", docs=CREATE_DOCS)
    if name in repo.labels:
        ctx.validation_failed("Label", None, "already_exists", "name", docs=CREATE_DOCS)
    label = ensure_label(ctx.services(request), repo, name, color.lower(), str(data.get("description") or ""))
    events.label(ctx.services(request), ctx.urls(request), repo, label, "created", who)
    body = label_json(ctx.urls(request), repo, label)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})


@routes.delete(REPO + "/labels/{name}")
async def delete_label(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    name = unquote(request.match_info["name"])
    label = repo.labels.pop(name, None)
    if label is None:
        ctx.fail(404, "Not Found")
    events.label(ctx.services(request), ctx.urls(request), repo, label, "deleted", who)
    threads: list[Thread] = [*repo.pulls.values(), *repo.issues.values()]
    for thread in threads:
        if name in thread.labels:
            thread.labels.remove(name)
    return web.Response(status=204)


def _labeled(svc: ctx.Services, urls: Urls, repo: Repo, thread: Thread, label: Label, action: str, who: str) -> None:
    """`labeled`/`unlabeled`: an `issues` event for an issue, a `pull_request` event for a pull request."""
    if isinstance(thread, Issue):
        events.issues(svc, urls, repo, thread, action, who, label=label_json(urls, repo, label))
    else:
        events.pull_request_label(svc, urls, repo, thread, label, action, who)


def _names(data: object) -> list[str]:
    # The API takes a bare list, or {"labels": [...]} with names or {"name": ...} objects.
    items = data.get("labels", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        ctx.validation_failed("Label", "labels must be a list of names", "invalid", "labels")
    return [str(item["name"] if isinstance(item, dict) else item) for item in items]


async def _set(request: web.Request, replace: bool) -> web.Response:
    repo, who = ctx.signed_in(request, "triage")
    svc = ctx.services(request)
    pull = find_thread(request, repo)
    names = _names(await request.json() if request.can_read_body else [])
    with svc.store.lock:
        before = list(pull.labels)
        if replace:
            pull.labels = []
        for name in names:
            ensure_label(svc, repo, name)
            if name not in pull.labels:
                pull.labels.append(name)
        pull.touch()
    urls = ctx.urls(request)
    for name in before:
        if name not in pull.labels and name in repo.labels:
            _labeled(svc, urls, repo, pull, repo.labels[name], "unlabeled", who)
    for name in pull.labels:
        if name not in before:
            _labeled(svc, urls, repo, pull, repo.labels[name], "labeled", who)
    return ctx.json_response([label_json(urls, repo, repo.labels[name]) for name in pull.labels])


@routes.get(REPO + "/issues/{number}/labels")
async def issue_labels(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    pull = find_thread(request, repo)
    urls = ctx.urls(request)
    return ctx.paginate(request, [label_json(urls, repo, repo.labels[name]) for name in pull.labels])


@routes.post(REPO + "/issues/{number}/labels")
async def add_issue_labels(request: web.Request) -> web.Response:
    return await _set(request, replace=False)


@routes.put(REPO + "/issues/{number}/labels")
async def set_issue_labels(request: web.Request) -> web.Response:
    return await _set(request, replace=True)


@routes.delete(REPO + "/issues/{number}/labels/{name}")
async def remove_issue_label(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "triage")
    pull = find_thread(request, repo)
    name = unquote(request.match_info["name"])
    if name not in pull.labels:
        ctx.fail(404, "Label does not exist", docs=REMOVE_DOCS)
    pull.labels.remove(name)
    pull.touch()
    urls = ctx.urls(request)
    _labeled(ctx.services(request), urls, repo, pull, repo.labels[name], "unlabeled", who)
    return ctx.json_response([label_json(urls, repo, repo.labels[n]) for n in pull.labels])
