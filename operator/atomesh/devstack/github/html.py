"""A small HTML view for people during `atomesh dev`: pull requests and issues as a reviewer sees them on
GitHub (Markdown rendered like github.com, checks, reviews, the diff of each file; templates in `pages/`), and
Merge / Close / Request changes / Approve / Comment forms that act as the configured reviewer."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from . import context as ctx
from . import pages
from .issues import add_comment
from .pages import views
from .pulls import close_pull, merge_pull
from .reviews import submit_review
from .store import Issue, Pull, Repo

routes = web.RouteTableDef()


def _page(template: str, title: str, **context: Any) -> web.Response:
    return web.Response(text=pages.render(template, title=title, **context), content_type="text/html")


def _repo_or_404(request: web.Request) -> Repo:
    found = ctx.services(request).store.repo(f"{request.match_info['owner']}/{request.match_info['name']}")
    if found is None or found.private:
        raise web.HTTPNotFound(text="No such repository")
    return found


def _pull_or_404(request: web.Request, repo: Repo) -> Pull:
    number = request.match_info["number"]
    pull = repo.pulls.get(int(number)) if number.isdigit() else None
    if pull is None:
        raise web.HTTPNotFound(text="No such pull request")
    return pull


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    store = ctx.services(request).store
    with store.lock:
        listings = [views.listing(repo) for repo in store.repos.values() if not repo.private]
    title, heading = "atomesh GitHub emulator", "Pull requests and issues"
    return _page("list.html", title, heading=heading, listings=listings, single=False)


@routes.get("/{owner}/{name}")
async def repo_page(request: web.Request) -> web.Response:
    repo = _repo_or_404(request)
    with ctx.services(request).store.lock:
        listing = views.listing(repo)
    return _page("list.html", repo.full_name, heading=repo.full_name, listings=[listing], single=True)


@routes.get("/{owner}/{name}/pull/{number}")
async def pull_page(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    repo = _repo_or_404(request)
    pull = _pull_or_404(request, repo)
    with svc.store.lock:
        context = {
            "repo": repo,
            "pull": pull,
            "body": views.body(pull.body),
            "conversation": views.conversation(pull),
            "runs": views.check_runs(repo, pull.head_sha),
            "statuses": views.statuses(repo, pull.head_sha),
        }
    files = views.changed_files(svc.storage, repo, pull)
    action = f"/{repo.full_name}/pull/{pull.number}"
    title = f"{pull.title} · Pull Request #{pull.number} · {repo.full_name}"
    return _page("pull.html", title, files=files, action=action, web_user=svc.web_user, **context)


@routes.get("/{owner}/{name}/issues/{number}")
async def issue_page(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    repo = _repo_or_404(request)
    number = request.match_info["number"]
    if number.isdigit() and int(number) in repo.pulls:
        # GitHub sends /issues/N of a pull request to its pull request page.
        raise web.HTTPMovedPermanently(f"/{repo.full_name}/pull/{number}")
    issue: Issue | None = repo.issues.get(int(number)) if number.isdigit() else None
    if issue is None:
        raise web.HTTPNotFound(text="No such issue")
    with svc.store.lock:
        body, conversation = views.body(issue.body), views.comments(issue.comments)
    title = f"{issue.title} · Issue #{issue.number} · {repo.full_name}"
    return _page("issue.html", title, repo=repo, issue=issue, body=body, conversation=conversation)


def _actor(request: web.Request) -> str:
    who = ctx.services(request).web_user
    if who is None:
        raise web.HTTPForbidden(text="The HTML view has no reviewer configured (GitHubEmulator(web_user=...)).")
    return who


@routes.post("/{owner}/{name}/pull/{number}/{verb:merge|close|review}")
async def pull_action(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    repo = _repo_or_404(request)
    pull = _pull_or_404(request, repo)
    who = _actor(request)
    form = await request.post()
    verb = request.match_info["verb"]
    urls = ctx.urls(request)
    try:
        if verb == "merge":
            merge_pull(svc, urls, repo, pull, who)
        elif verb == "close":
            close_pull(svc, urls, repo, pull, who)
        else:
            event, text = str(form.get("event", "COMMENT")), str(form.get("body", ""))
            if event == "COMMENT" and text.strip():
                add_comment(svc, urls, repo, pull, who, text)
            else:
                fallback = "Changes requested in the browser." if event == "REQUEST_CHANGES" else ""
                submit_review(svc, urls, repo, pull, who, event, text or fallback)
    except ctx.ApiError as exc:
        back = f"/{repo.full_name}/pull/{pull.number}"
        return web.Response(text=f"<p>{escape(str(exc))}</p><p><a href='{back}'>back</a></p>", content_type="text/html")
    raise web.HTTPSeeOther(f"/{repo.full_name}/pull/{pull.number}")
