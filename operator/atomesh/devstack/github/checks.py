"""REST routes for commit statuses and check runs (what atomesh reports on a PR's head commit)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import context as ctx
from . import events
from .payloads import check_run_json, status_json
from .store import CheckRun, CommitStatus, Repo, now_iso
from .suites import suite_completed

routes = web.RouteTableDef()
REPO = ctx.API_PREFIX + "/repos/{owner}/{repo}"
STATES = ("error", "failure", "pending", "success")
CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required", "stale")


def _sha(svc: ctx.Services, repo: Repo, ref: str) -> str:
    sha = svc.storage.resolve(repo.full_name, ref)
    if sha is None:
        ctx.validation_failed("Commit", f"No commit found for SHA: {ref}", "invalid", "sha")
    return sha


@routes.post(REPO + "/statuses/{sha}")
async def create_status(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    data = await ctx.body(request)
    if data.get("state") not in STATES:
        ctx.validation_failed("Status", f"state must be one of {', '.join(STATES)}", "invalid", "state")
    status = CommitStatus(
        id=svc.store.new_id(),
        sha=_sha(svc, repo, request.match_info["sha"]),
        state=data["state"],
        context=str(data.get("context") or "default"),
        description=data.get("description"),
        target_url=data.get("target_url"),
        creator=who,
        created_at=now_iso(),
    )
    repo.statuses.append(status)
    events.status(svc, ctx.urls(request), repo, status, who)
    body = status_json(svc.store, ctx.urls(request), repo, status)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})


@routes.get(REPO + "/commits/{ref}/statuses")
async def list_statuses(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    sha = _sha(svc, repo, request.match_info["ref"])
    urls = ctx.urls(request)
    items = [status_json(svc.store, urls, repo, s) for s in reversed(repo.statuses) if s.sha == sha]
    return ctx.paginate(request, items)


@routes.get(REPO + "/commits/{ref}/status")
async def combined_status(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    sha = _sha(svc, repo, request.match_info["ref"])
    latest: dict[str, CommitStatus] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status
    states = {s.state for s in latest.values()}
    state = (
        "failure" if states & {"failure", "error"} else "pending" if "pending" in states or not states else "success"
    )
    urls = ctx.urls(request)
    return ctx.json_response(
        {
            "state": state,
            "sha": sha,
            "total_count": len(latest),
            "statuses": [status_json(svc.store, urls, repo, s) for s in latest.values()],
            "url": f"{urls.repo_api(repo)}/commits/{sha}/status",
        }
    )


def _apply(run: CheckRun, data: dict[str, Any]) -> None:
    output = data.get("output") or {}
    if isinstance(output, dict):
        run.title = output.get("title", run.title)
        run.summary = output.get("summary", run.summary)
        run.text = output.get("text", run.text)
    for key in ("details_url", "external_id"):
        if key in data:
            setattr(run, key, data[key])
    if "status" in data:
        run.status = str(data["status"])
    if data.get("conclusion") is not None:
        if data["conclusion"] not in CONCLUSIONS:
            ctx.validation_failed("CheckRun", f"conclusion must be one of {', '.join(CONCLUSIONS)}", "invalid")
        run.conclusion = data["conclusion"]
        run.status = "completed"
    if run.status == "completed":
        run.completed_at = data.get("completed_at") or run.completed_at or now_iso()


@routes.post(REPO + "/check-runs")
async def create_check_run(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    data = await ctx.body(request)
    if not isinstance(data.get("name"), str) or not data["name"]:
        ctx.validation_failed("CheckRun", "name is required", "missing_field", "name")
    if data.get("status") == "completed" and data.get("conclusion") is None:
        ctx.validation_failed("CheckRun", "conclusion is required when status is completed", "missing_field")
    run = CheckRun(
        id=svc.store.new_id(),
        name=data["name"],
        head_sha=_sha(svc, repo, str(data.get("head_sha") or "")),
        status="queued",
        conclusion=None,
        title=None,
        summary=None,
        text=None,
        details_url=None,
        external_id=None,
        started_at=str(data.get("started_at") or now_iso()),
        completed_at=None,
        app_login=who,
    )
    _apply(run, data)
    repo.check_runs.append(run)
    events.check_run(svc, ctx.urls(request), repo, run, "created", who)
    if run.status == "completed":
        events.check_run(svc, ctx.urls(request), repo, run, "completed", who)
        suite_completed(svc, ctx.urls(request), repo, run, who)
    return ctx.json_response(check_run_json(svc.store, ctx.urls(request), repo, run), status=201)


def _find_run(request: web.Request, repo: Repo) -> CheckRun:
    wanted = int(request.match_info["id"])
    run = next((r for r in repo.check_runs if r.id == wanted), None)
    if run is None:
        ctx.fail(404, "Not Found")
    return run


@routes.get(REPO + "/check-runs/{id:\\d+}")
async def get_check_run(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    return ctx.json_response(check_run_json(svc.store, ctx.urls(request), repo, _find_run(request, repo)))


@routes.patch(REPO + "/check-runs/{id:\\d+}")
async def update_check_run(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    run = _find_run(request, repo)
    was = run.status
    _apply(run, await ctx.body(request))
    if run.status == "completed" and was != "completed":
        events.check_run(svc, ctx.urls(request), repo, run, "completed", who)
        suite_completed(svc, ctx.urls(request), repo, run, who)
    return ctx.json_response(check_run_json(svc.store, ctx.urls(request), repo, run))


@routes.get(REPO + "/commits/{ref}/check-runs")
async def list_check_runs(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    sha = _sha(svc, repo, request.match_info["ref"])
    name = request.query.get("check_name")
    status = request.query.get("status")
    runs = [
        r
        for r in repo.check_runs
        if r.head_sha == sha and (name is None or r.name == name) and (status is None or r.status == status)
    ]
    if request.query.get("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for run in runs:
            latest[run.name] = run
        runs = list(latest.values())
    urls = ctx.urls(request)
    items = [check_run_json(svc.store, urls, repo, run) for run in reversed(runs)]
    response = ctx.paginate(request, items)
    # The check-runs listing wraps its page in an object; PyGithub reads `check_runs` and `total_count`.
    page = response.text
    response.text = f'{{"total_count": {len(items)}, "check_runs": {page}}}'
    return response
