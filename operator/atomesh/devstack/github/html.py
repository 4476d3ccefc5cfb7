"""A small HTML view for people during `atomesh dev`: pull requests, their body and diff, and
Merge / Close / Request changes / Approve / Comment forms that act as the configured reviewer."""

from __future__ import annotations

from html import escape

from aiohttp import web

from . import context as ctx
from .issues import add_comment
from .pulls import close_pull, merge_pull
from .reviews import submit_review
from .store import Pull, Repo

routes = web.RouteTableDef()
STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#1f2328}
a{color:#0969da;text-decoration:none} .muted{color:#656d76}
.state{display:inline-block;padding:2px 10px;border-radius:2em;color:#fff;font-weight:600}
.open{background:#1f883d}.closed{background:#cf222e}.merged{background:#8250df}
pre{background:#f6f8fa;padding:1em;overflow:auto;white-space:pre-wrap}
.diff .add{background:#dafbe1}.diff .del{background:#ffebe9}.diff .hunk{color:#0550ae}
.label{border:1px solid #d0d7de;border-radius:2em;padding:0 8px;margin-right:4px;font-size:12px}
form{display:inline} button{margin:4px 4px 4px 0;padding:4px 12px}
textarea{width:100%;min-height:5em} table{border-collapse:collapse} td{padding:4px 12px 4px 0}
"""


def _page(title: str, body: str) -> web.Response:
    html = f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
    html += f"<style>{STYLE}</style></head><body>{body}</body></html>"
    return web.Response(text=html, content_type="text/html")


def _state(pull: Pull) -> str:
    state = "merged" if pull.merged else pull.state
    return f"<span class='state {state}'>{state}</span>"


def _rows(repo: Repo) -> str:
    rows = []
    for pull in sorted(repo.pulls.values(), key=lambda p: -p.number):
        link = f"/{repo.full_name}/pull/{pull.number}"
        labels = "".join(f"<span class='label'>{escape(name)}</span>" for name in pull.labels)
        rows.append(
            f"<tr><td>{_state(pull)}</td><td><a href='{link}'>#{pull.number} {escape(pull.title)}</a></td>"
            f"<td>{labels}</td><td class='muted'>{escape(pull.head_ref)} → {escape(pull.base_ref)}</td></tr>"
        )
    return "<table>" + "".join(rows) + "</table>" if rows else "<p class='muted'>No pull requests.</p>"


def _diff(text: str) -> str:
    lines = []
    for line in text.splitlines():
        kind = (
            "add"
            if line.startswith("+")
            else "del"
            if line.startswith("-")
            else "hunk"
            if line.startswith("@@")
            else ""
        )
        lines.append(f"<span class='{kind}'>{escape(line)}</span>")
    return "<pre class='diff'>" + "\n".join(lines) + "</pre>"


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
    svc = ctx.services(request)
    sections = [
        f"<h2><a href='/{repo.full_name}'>{escape(repo.full_name)}</a></h2>{_rows(repo)}"
        for repo in svc.store.repos.values()
        if not repo.private
    ]
    return _page("atomesh GitHub emulator", "<h1>Pull requests</h1>" + "".join(sections))


@routes.get("/{owner}/{name}")
async def repo_page(request: web.Request) -> web.Response:
    repo = _repo_or_404(request)
    return _page(
        repo.full_name, f"<p><a href='/'>all repositories</a></p><h1>{escape(repo.full_name)}</h1>{_rows(repo)}"
    )


@routes.get("/{owner}/{name}/pull/{number}")
async def pull_page(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    repo = _repo_or_404(request)
    pull = _pull_or_404(request, repo)
    action = f"/{repo.full_name}/pull/{pull.number}"
    parts = [
        f"<p><a href='/{repo.full_name}'>{escape(repo.full_name)}</a></p>",
        f"<h1>{escape(pull.title)} <span class='muted'>#{pull.number}</span></h1>",
        f"<p>{_state(pull)} <b>{escape(pull.user)}</b> wants to merge <code>{escape(pull.head_ref)}</code> "
        f"into <code>{escape(pull.base_ref)}</code> · head <code>{pull.head_sha[:12]}</code></p>",
        "<p>" + "".join(f"<span class='label'>{escape(n)}</span>" for n in pull.labels) + "</p>",
        f"<pre>{escape(pull.body)}</pre>",
    ]
    timeline = [(r.submitted_at or "", r.user, f"{r.state.lower().replace('_', ' ')}: {r.body}") for r in pull.reviews]
    timeline += [(c.created_at, c.user, f"on {c.path}:{c.line}: {c.body}") for c in pull.line_comments]
    timeline += [(c.created_at, c.user, c.body) for c in pull.comments]
    if timeline:
        parts.append("<h2>Conversation</h2>")
        parts += [
            f"<p><b>{escape(who)}</b> <span class='muted'>{at}</span><br>{escape(text)}</p>"
            for at, who, text in sorted(timeline)
        ]
    if pull.state == "open" and svc.web_user:
        parts.append(
            f"<h2>Review as {escape(svc.web_user)}</h2><form method='post' action='{action}/review'>"
            "<textarea name='body' placeholder='Leave a comment'></textarea><br>"
            "<button name='event' value='APPROVE'>Approve</button>"
            "<button name='event' value='REQUEST_CHANGES'>Request changes</button>"
            "<button name='event' value='COMMENT'>Comment</button></form>"
            f"<form method='post' action='{action}/merge'><button>Merge</button></form>"
            f"<form method='post' action='{action}/close'><button>Close</button></form>"
        )
    parts.append("<h2>Files changed</h2>" + _diff(svc.storage.diff(repo.full_name, pull.base_sha, pull.head_sha)))
    return _page(f"{pull.title} · #{pull.number}", "".join(parts))


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
        return _page(
            "Error", f"<p>{escape(str(exc))}</p><p><a href='/{repo.full_name}/pull/{pull.number}'>back</a></p>"
        )
    raise web.HTTPSeeOther(f"/{repo.full_name}/pull/{pull.number}")
