"""REST routes for pull requests: create, get, list (head/base/state filters), update, merge,
requested reviewers and changed files. `merge_pull` and `close_pull` are shared with the HTML view."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import context as ctx
from . import events
from .conversations import pull_json
from .payloads import Urls
from .people import team_json, user_json
from .pushes import refs_moved
from .repos import GitError, Identity, MergeConflict
from .store import Pull, Repo, Thread, now_iso

routes = web.RouteTableDef()
PULLS = ctx.API_PREFIX + "/repos/{owner}/{repo}/pulls"
MERGE_METHODS = ("merge", "squash", "rebase")
CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
UPDATE_DOCS = "https://docs.github.com/rest/pulls/pulls#update-a-pull-request"
MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
REVIEW_REQUEST_DOCS = "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"


def find_pull(request: web.Request, repo: Repo) -> Pull:
    try:
        number = int(request.match_info["number"])
    except ValueError:
        ctx.fail(404, "Not Found")
    pull = repo.pulls.get(number)
    if pull is None:
        ctx.fail(404, "Not Found")
    return pull


def merge_pull(
    svc: ctx.Services,
    urls: Urls,
    repo: Repo,
    pull: Pull,
    who: str,
    method: str = "merge",
    sha: str | None = None,
    title: str | None = None,
    message: str | None = None,
) -> str:
    """A real git merge of the PR's head into its base branch; moves the base branch and closes the PR."""
    if method not in MERGE_METHODS:
        ctx.validation_failed("PullRequest", None, "invalid", "merge_method", docs=MERGE_DOCS)
    if pull.merged or pull.state != "open":
        ctx.fail(405, "Pull Request is not mergeable", docs=MERGE_DOCS)
    if pull.draft:
        ctx.fail(405, "Pull Request is still a draft", docs=MERGE_DOCS)
    if sha and sha != pull.head_sha:
        ctx.fail(409, "Head branch was modified. Review and try the merge again.", docs=MERGE_DOCS)
    base_tip = svc.storage.branches(repo.full_name).get(pull.base_ref)
    if base_tip is None:
        ctx.fail(405, "Pull Request is not mergeable", docs=MERGE_DOCS)
    if method == "squash":
        default = f"{pull.title} (#{pull.number})"
    else:
        default = f"Merge pull request #{pull.number} from {repo.owner}/{pull.head_ref}\n\n{pull.title}"
    text = default if title is None else title + (f"\n\n{message}" if message else "")
    author = svc.store.users.get(who)
    identity = Identity(author.name or who if author else who, f"{who}@users.noreply.github.com")
    try:
        merged = svc.storage.merge(repo.full_name, base_tip, pull.head_sha, method, text, identity)  # type: ignore[arg-type]
    except MergeConflict:
        raise ctx.ApiError(405, "Pull Request is not mergeable", docs=MERGE_DOCS) from None
    except GitError as exc:
        raise ctx.ApiError(500, f"merge failed: {exc}") from None
    before = svc.storage.refs(repo.full_name)
    try:
        svc.storage.update_ref(repo.full_name, f"refs/heads/{pull.base_ref}", merged, old=base_tip)
    except GitError:
        raise ctx.ApiError(409, "Base branch was modified. Review and try the merge again.", docs=MERGE_DOCS) from None
    with svc.store.lock:
        stamp = now_iso()
        pull.state = "closed"
        pull.merged = True
        pull.merged_by = who
        pull.merged_at = stamp
        pull.closed_at = stamp
        pull.closed_by = who
        pull.merge_commit_sha = merged
        pull.base_sha = base_tip
        pull.updated_at = stamp
    events.pull_request(svc, urls, repo, pull, "closed", who)
    refs_moved(svc, urls, repo, before, who)
    events.sync_pulls(svc, urls, repo, who)
    return merged


def close_pull(svc: ctx.Services, urls: Urls, repo: Repo, pull: Pull, who: str) -> None:
    if pull.state == "closed":
        return
    with svc.store.lock:
        pull.state = "closed"
        pull.closed_at = now_iso()
        pull.closed_by = who
        pull.touch()
    events.pull_request(svc, urls, repo, pull, "closed", who)


def _render(request: web.Request, repo: Repo, pull: Pull, status: int = 200) -> web.Response:
    svc = ctx.services(request)
    return ctx.json_response(pull_json(svc.store, ctx.urls(request), repo, pull, svc.storage), status=status)


def _branch(value: object, repo: Repo, field: str) -> str:
    if not isinstance(value, str) or not value:
        ctx.validation_failed("PullRequest", None, "missing_field", field, docs=CREATE_DOCS)
    owner, _, branch = value.rpartition(":")
    if owner and owner.lower() != repo.owner.lower():
        # GitHub answers an owner with no fork of the repository as it answers an unknown branch.
        ctx.validation_failed("PullRequest", None, "invalid", field, docs=CREATE_DOCS)
    return branch


@routes.get(PULLS)
async def list_pulls(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    state = request.query.get("state", "open")
    head = request.query.get("head")
    base = request.query.get("base")
    selected = []
    for pull in repo.pulls.values():
        if state != "all" and pull.state != state:
            continue
        if head:
            owner, _, branch = head.rpartition(":")
            if branch != pull.head_ref or (owner and owner.lower() != repo.owner.lower()):
                continue
        if base and pull.base_ref != base:
            continue
        selected.append(pull)
    key = request.query.get("sort", "created")
    selected.sort(
        key=lambda p: (p.updated_at, p.number) if key in ("updated", "popularity") else (p.created_at, p.number)
    )
    if request.query.get("direction", "desc") == "desc":
        selected.reverse()
    urls = ctx.urls(request)
    return ctx.paginate(request, [pull_json(svc.store, urls, repo, pull, svc.storage) for pull in selected])


@routes.post(PULLS)
async def create_pull(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    data = await ctx.body(request)
    head = _branch(data.get("head"), repo, "head")
    base = _branch(data.get("base"), repo, "base")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        ctx.validation_failed("PullRequest", None, "missing_field", "title", docs=CREATE_DOCS)
    branches = svc.storage.branches(repo.full_name)
    if head not in branches:
        ctx.validation_failed("PullRequest", None, "invalid", "head", docs=CREATE_DOCS)
    if base not in branches:
        ctx.validation_failed("PullRequest", None, "invalid", "base", docs=CREATE_DOCS)
    with svc.store.lock:
        for other in repo.pulls.values():
            if other.state == "open" and other.head_ref == head and other.base_ref == base:
                message = f"A pull request already exists for {repo.owner}:{head}."
                ctx.validation_failed("PullRequest", message, docs=CREATE_DOCS)
    if svc.storage.is_ancestor(repo.full_name, branches[head], branches[base]):
        ctx.validation_failed("PullRequest", f"No commits between {base} and {head}", docs=CREATE_DOCS)
    with svc.store.lock:
        stamp = now_iso()
        pull = Pull(
            number=repo.next_number,
            id=svc.store.new_id(),
            title=title,
            body=str(data.get("body") or ""),
            user=who,
            head_ref=head,
            head_sha=branches[head],
            base_ref=base,
            base_sha=branches[base],
            draft=bool(data.get("draft", False)),
            created_at=stamp,
            updated_at=stamp,
        )
        repo.pulls[pull.number] = pull
        repo.next_number += 1
    events.pull_request(svc, ctx.urls(request), repo, pull, "opened", who)
    response = _render(request, repo, pull, status=201)
    response.headers["Location"] = f"{ctx.urls(request).repo_api(repo)}/pulls/{pull.number}"
    return response


@routes.get(PULLS + "/{number}")
async def get_pull(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    return _render(request, repo, find_pull(request, repo))


def edit_text(pull: Thread, data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Apply a new title and body from a PATCH (pulls or issues API); the caller holds the store
    lock. Returns GitHub's `changes` for the `edited` webhook."""
    changes: dict[str, dict[str, str]] = {}
    for field in ("title", "body"):
        if isinstance(data.get(field), str) and data[field] != getattr(pull, field):
            changes[field] = {"from": getattr(pull, field)}
            setattr(pull, field, data[field])
    return changes


@routes.patch(PULLS + "/{number}")
async def update_pull(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    urls = ctx.urls(request)
    with svc.store.lock:
        changes = edit_text(pull, data)
        if isinstance(data.get("base"), str) and data["base"] != pull.base_ref:
            base_sha = svc.storage.branches(repo.full_name).get(data["base"])
            if base_sha is None:
                ctx.validation_failed("PullRequest", None, "invalid", "base", docs=UPDATE_DOCS)
            changes["base"] = {"from": pull.base_ref}
            pull.base_ref, pull.base_sha = data["base"], base_sha
        if changes:
            pull.touch()
    if changes and pull.state == "open":
        events.pull_request(svc, urls, repo, pull, "edited", who, changes=changes)
    state = data.get("state")
    if state == "closed" and pull.state == "open":
        close_pull(svc, urls, repo, pull, who)
    elif state == "open" and pull.state == "closed" and not pull.merged:
        with svc.store.lock:
            pull.state, pull.closed_at, pull.closed_by = "open", None, None
            pull.touch()
        events.pull_request(svc, urls, repo, pull, "reopened", who)
    return _render(request, repo, pull)


@routes.get(PULLS + "/{number}/merge")
async def is_merged(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    return web.Response(status=204 if find_pull(request, repo).merged else 404)


@routes.put(PULLS + "/{number}/merge")
async def merge(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    sha = merge_pull(
        ctx.services(request),
        ctx.urls(request),
        repo,
        pull,
        who,
        method=str(data.get("merge_method") or "merge"),
        sha=data.get("sha") or None,
        title=data.get("commit_title") or None,
        message=data.get("commit_message") or None,
    )
    return ctx.json_response({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@routes.get(PULLS + "/{number}/requested_reviewers")
async def requested_reviewers(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    urls = ctx.urls(request)
    return ctx.json_response(
        {
            "users": [user_json(svc.store, urls, login) for login in pull.requested_reviewers],
            "teams": [team_json(urls, repo, slug) for slug in pull.requested_teams],
        }
    )


@routes.post(PULLS + "/{number}/requested_reviewers")
async def request_reviewers(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    users = [str(login) for login in data.get("reviewers") or []]
    teams = [str(slug) for slug in data.get("team_reviewers") or []]
    # Both answers are GitHub's bare 422: a message and no `errors`, the whole request refused.
    if pull.user in users:
        ctx.fail(422, "Review cannot be requested from pull request author.", docs=REVIEW_REQUEST_DOCS)
    if not all(login == repo.owner or login in repo.collaborators for login in users):
        ctx.fail(
            422,
            "Reviews may only be requested from collaborators. One or more of the users or teams you specified "
            f"is not a collaborator of the {repo.full_name} repository.",
            docs=REVIEW_REQUEST_DOCS,
        )
    with svc.store.lock:
        added = [login for login in dict.fromkeys(users) if login not in pull.requested_reviewers]
        pull.requested_reviewers += added
        pull.requested_teams += [slug for slug in teams if slug not in pull.requested_teams]
        pull.touch()
    for login in added:
        events.review_request(svc, ctx.urls(request), repo, pull, login, "review_requested", who)
    return _render(request, repo, pull, status=201)


@routes.delete(PULLS + "/{number}/requested_reviewers")
async def remove_reviewers(request: web.Request) -> web.Response:
    repo, who = ctx.signed_in(request, "write")
    pull = find_pull(request, repo)
    data = await ctx.body(request)
    removed = [u for u in pull.requested_reviewers if u in (data.get("reviewers") or [])]
    pull.requested_reviewers = [u for u in pull.requested_reviewers if u not in removed]
    pull.requested_teams = [t for t in pull.requested_teams if t not in (data.get("team_reviewers") or [])]
    pull.touch()
    for login in removed:
        events.review_request(
            ctx.services(request), ctx.urls(request), repo, pull, login, "review_request_removed", who
        )
    return _render(request, repo, pull)


@routes.get(PULLS + "/{number}/files")
async def pull_files(request: web.Request) -> web.Response:
    repo, _ = ctx.repo(request)
    svc = ctx.services(request)
    pull = find_pull(request, repo)
    urls = ctx.urls(request)
    files = [
        {
            "sha": pull.head_sha,
            "filename": change.path,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{urls.repo_html(repo)}/blob/{pull.head_sha}/{change.path}",
            "raw_url": f"{urls.repo_html(repo)}/raw/{pull.head_sha}/{change.path}",
            "contents_url": f"{urls.repo_api(repo)}/contents/{change.path}?ref={pull.head_sha}",
        }
        for change in svc.storage.changed_files(repo.full_name, pull.base_sha, pull.head_sha)
    ]
    return ctx.paginate(request, files)
