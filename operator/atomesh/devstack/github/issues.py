"""REST routes for issues and their comments: create, list, get, edit, close and reopen an issue,
and the issues API's view of a pull request (GitHub addresses both by one number).
`add_comment` is shared with the HTML view."""

from __future__ import annotations

from aiohttp import web

from . import context as ctx
from . import events
from .conversations import comment_json, issue_json
from .payloads import Urls
from .pulls import close_pull, edit_text
from .store import Issue, IssueComment, Repo, Thread, now_iso

routes = web.RouteTableDef()
REPO = ctx.API_PREFIX + "/repos/{owner}/{repo}"
COMMENT_DOCS = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
CREATE_ISSUE_DOCS = "https://docs.github.com/rest/issues/issues#create-an-issue"


def find_thread(request: web.Request, repo: Repo) -> Thread:
    """The issue or pull request numbered in the path."""
    try:
        number = int(request.match_info["number"])
    except ValueError:
        ctx.fail(404, "Not Found")
    found = repo.pulls.get(number) or repo.issues.get(number)
    if found is None:
        ctx.fail(404, "Not Found")
    return found


def add_comment(svc: ctx.Services, urls: Urls, repo: Repo, thread: Thread, who: str, body: str) -> IssueComment:
    if not body.strip():
        ctx.validation_failed("IssueComment", None, "missing_field", "body", docs=COMMENT_DOCS)
    stamp = now_iso()
    with svc.store.lock:
        comment = IssueComment(id=svc.store.new_id(), user=who, body=body, created_at=stamp, updated_at=stamp)
        thread.comments.append(comment)
        thread.touch()
    events.issue_comment(svc, urls, repo, thread, comment, who)
    return comment


@routes.post(REPO + "/issues")
async def create_issue(request: web.Request) -> web.Response:
    # Anyone who can read a public repository may open an issue on it.
    repo, who = ctx.signed_in(request)
    svc = ctx.services(request)
    data = await ctx.body(request)
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        ctx.validation_failed("Issue", None, "missing_field", "title", docs=CREATE_ISSUE_DOCS)
    labels = [str(name) for name in data.get("labels") or []]
    if labels and not svc.store.allows(repo, who, "triage"):
        labels = []  # GitHub silently drops labels from someone who may not triage
    stamp = now_iso()
    with svc.store.lock:
        issue = Issue(
            number=repo.next_number,
            id=svc.store.new_id(),
            title=title,
            body=str(data.get("body") or ""),
            user=who,
            created_at=stamp,
            updated_at=stamp,
            labels=[name for name in labels if name in repo.labels],
        )
        repo.issues[issue.number] = issue
        repo.next_number += 1
    urls = ctx.urls(request)
    events.issues(svc, urls, repo, issue, "opened", who)
    body = issue_json(svc.store, urls, repo, issue)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})


@routes.get(REPO + "/issues")
async def list_issues(request: web.Request) -> web.Response:
    """Issues and pull requests, newest first, as GitHub lists them; `state` and `labels` filter."""
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    state = request.query.get("state", "open")
    wanted = {name for name in request.query.get("labels", "").split(",") if name}
    threads: list[Thread] = [*repo.pulls.values(), *repo.issues.values()]
    selected = [t for t in threads if (state == "all" or t.state == state) and wanted <= set(t.labels)]
    selected.sort(key=lambda t: t.number, reverse=request.query.get("direction", "desc") == "desc")
    urls = ctx.urls(request)
    return ctx.paginate(request, [issue_json(svc.store, urls, repo, t) for t in selected])


@routes.get(REPO + "/issues/{number}")
async def get_issue(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    return ctx.json_response(issue_json(svc.store, ctx.urls(request), repo, find_thread(request, repo)))


@routes.patch(REPO + "/issues/{number}")
async def update_issue(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "triage")
    svc = ctx.services(request)
    thread = find_thread(request, repo)
    data = await ctx.body(request)
    urls = ctx.urls(request)
    with svc.store.lock:
        changes = edit_text(thread, data)
        if changes:
            thread.touch()
    if isinstance(thread, Issue):
        _update_issue(svc, urls, repo, thread, who, data, changes)
        return ctx.json_response(issue_json(svc.store, urls, repo, thread))
    if changes and thread.state == "open":
        events.pull_request(svc, urls, repo, thread, "edited", who, changes=changes)
    if data.get("state") == "closed" and thread.state == "open":
        close_pull(svc, urls, repo, thread, who)
    return ctx.json_response(issue_json(svc.store, urls, repo, thread))


def _update_issue(
    svc: ctx.Services,
    urls: Urls,
    repo: Repo,
    issue: Issue,
    who: str,
    data: dict[str, object],
    changes: dict[str, dict[str, str]],
) -> None:
    if changes:
        events.issues(svc, urls, repo, issue, "edited", who, changes=changes)
    state = data.get("state")
    if state == "closed" and issue.state == "open":
        with svc.store.lock:
            issue.state, issue.closed_at, issue.closed_by = "closed", now_iso(), who
            issue.state_reason = str(data.get("state_reason") or "completed")
            issue.touch()
        events.issues(svc, urls, repo, issue, "closed", who)
    elif state == "open" and issue.state == "closed":
        with svc.store.lock:
            issue.state, issue.closed_at, issue.closed_by, issue.state_reason = "open", None, None, "reopened"
            issue.touch()
        events.issues(svc, urls, repo, issue, "reopened", who)


@routes.get(REPO + "/issues/{number}/comments")
async def list_comments(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    thread = find_thread(request, repo)
    urls = ctx.urls(request)
    return ctx.paginate(request, [comment_json(svc.store, urls, repo, thread, c) for c in thread.comments])


@routes.post(REPO + "/issues/{number}/comments")
async def create_comment(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request)
    svc = ctx.services(request)
    thread = find_thread(request, repo)
    data = await ctx.body(request)
    comment = add_comment(svc, ctx.urls(request), repo, thread, who, str(data.get("body") or ""))
    body = comment_json(svc.store, ctx.urls(request), repo, thread, comment)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})
