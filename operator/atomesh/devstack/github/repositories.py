"""REST routes for users, repositories, branches, git refs, commits, contents and collaborators."""

from __future__ import annotations

import base64

from aiohttp import web

from . import context as ctx
from . import ratelimit
from .events import sync_pulls
from .payloads import Urls, branch_json, commit_json, git_commit_json, ref_json, repo_json
from .people import org_json, public_user_json, user_json
from .pushes import refs_moved
from .repos import Identity
from .store import PERMISSION_RANK, Repo, Store, now_iso

routes = web.RouteTableDef()
P = ctx.API_PREFIX
REPO = P + "/repos/{owner}/{repo}"
REF_DOCS = "https://docs.github.com/rest/git/refs#create-a-reference"
UPDATE_REF_DOCS = "https://docs.github.com/rest/git/refs#update-a-reference"
DELETE_REF_DOCS = "https://docs.github.com/rest/git/refs#delete-a-reference"


def create_repo(
    svc: ctx.Services, owner: str, name: str, *, private: bool = False, description: str = "", auto_init: bool = False
) -> Repo:
    """Register a repository and its bare git repository (idempotent for tests and seeding)."""
    store = svc.store
    with store.lock:
        existing = store.repo(f"{owner}/{name}")
        if existing is not None:
            return existing
        store.add_user(owner)
        found = Repo(
            owner=owner,
            name=name,
            id=store.new_id(),
            default_branch="main",
            private=private,
            description=description,
            created_at=now_iso(),
        )
        store.repos[found.full_name.lower()] = found
    if not svc.storage.exists(found.full_name):
        svc.storage.create(found.full_name, found.default_branch)
    if auto_init and not svc.storage.branches(found.full_name):
        sha = svc.storage.write_commit(
            found.full_name,
            {"README.md": f"# {name}\n\n{description}\n".encode()},
            "Initial commit",
            Identity(owner, f"{owner}@users.noreply.github.com"),
            [],
        )
        svc.storage.update_ref(found.full_name, f"refs/heads/{found.default_branch}", sha)
    return found


@routes.get(P + "/user")
async def get_user(request: web.Request) -> web.Response:
    who = ctx.login(request)
    assert who is not None
    return ctx.json_response(public_user_json(ctx.services(request).store, ctx.urls(request), who))


@routes.get(P + "/users/{login}")
async def get_named_user(request: web.Request) -> web.Response:
    store = ctx.services(request).store
    name = request.match_info["login"]
    if name not in store.users:
        ctx.fail(404, "Not Found")
    return ctx.json_response(public_user_json(store, ctx.urls(request), name))


@routes.get(P + "/rate_limit")
async def rate_limit(request: web.Request) -> web.Response:
    """Where the caller stands; only `core` is counted, the other resources are reported unused."""
    key, allowed, _ = ratelimit.caller(request)
    window = request.app[ratelimit.LIMITS].window(key, allowed)
    core = {"limit": window.limit, "remaining": window.remaining, "reset": window.reset, "used": window.used}
    fresh = {"limit": window.limit, "remaining": window.limit, "reset": window.reset, "used": 0}
    resources = {"core": core, "search": fresh, "graphql": fresh, "integration_manifest": fresh}
    return ctx.json_response({"resources": resources, "rate": core})


async def _create(request: web.Request, owner: str | None) -> web.Response:
    svc = ctx.services(request)
    who = ctx.login(request)
    assert who is not None
    data = await ctx.body(request)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        ctx.validation_failed("Repository", "name is required", "missing_field", "name")
    owner = owner or who
    if svc.store.repo(f"{owner}/{name}") is not None:
        taken = {
            "resource": "Repository",
            "code": "custom",
            "field": "name",
            "message": "name already exists on this account",
        }
        anchor = (
            "create-an-organization-repository"
            if "/orgs/" in request.path
            else "create-a-repository-for-the-authenticated-user"
        )
        raise ctx.ApiError(
            422, "Repository creation failed.", [taken], docs=f"https://docs.github.com/rest/repos/repos#{anchor}"
        )
    found = create_repo(
        svc,
        owner,
        name,
        private=bool(data.get("private", False)),
        description=str(data.get("description") or ""),
        auto_init=bool(data.get("auto_init", False)),
    )
    if owner != who:
        found.collaborators[who] = "admin"
    body = repo_json(svc.store, ctx.urls(request), found, login=who)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})


@routes.post(P + "/user/repos")
async def create_user_repo(request: web.Request) -> web.Response:
    return await _create(request, None)


@routes.post(P + "/orgs/{org}/repos")
async def create_org_repo(request: web.Request) -> web.Response:
    return await _create(request, request.match_info["org"])


@routes.get(P + "/orgs/{org}")
async def get_org(request: web.Request) -> web.Response:
    store = ctx.services(request).store
    org = request.match_info["org"]
    if org not in store.users:
        ctx.fail(404, "Not Found")
    return ctx.json_response(org_json(store, ctx.urls(request), org))


@routes.get(REPO)
async def get_repo(request: web.Request) -> web.Response:
    found, who = ctx.repo(request)
    svc = ctx.services(request)
    return ctx.json_response(repo_json(svc.store, ctx.urls(request), found, login=who))


@routes.get(REPO + "/branches")
async def list_branches(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    items = []
    for name, sha in sorted(svc.storage.branches(found.full_name).items()):
        items.append(
            {
                "name": name,
                "commit": {"sha": sha, "url": f"{ctx.urls(request).repo_api(found)}/commits/{sha}"},
                "protected": False,
            }
        )
    return ctx.paginate(request, items)


@routes.get(REPO + "/branches/{branch:.+}")
async def get_branch(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    name = request.match_info["branch"]
    sha = svc.storage.branches(found.full_name).get(name)
    if sha is None:
        ctx.fail(404, "Branch not found")
    info = svc.storage.commit(found.full_name, sha)
    return ctx.json_response(branch_json(svc.store, ctx.urls(request), found, name, info))


@routes.get(REPO + "/git/ref/{ref:.+}")
async def get_ref(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    ref = "refs/" + request.match_info["ref"]
    sha = svc.storage.refs(found.full_name).get(ref)
    if sha is None:
        ctx.fail(404, "Not Found")
    return ctx.json_response(ref_json(ctx.urls(request), found, ref, sha))


@routes.get(REPO + "/git/refs{sub:(/.*)?}")
async def list_refs(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    prefix = "refs" + request.match_info["sub"]
    refs = svc.storage.refs(found.full_name)
    exact = refs.get(prefix)
    if exact is not None:
        return ctx.json_response(ref_json(ctx.urls(request), found, prefix, exact))
    items = [
        ref_json(ctx.urls(request), found, ref, sha) for ref, sha in sorted(refs.items()) if ref.startswith(prefix)
    ]
    if not items:
        ctx.fail(404, "Not Found")
    return ctx.paginate(request, items)


@routes.get(REPO + "/git/matching-refs/{ref:.*}")
async def list_matching_refs(request: web.Request) -> web.Response:
    """Every ref whose name starts with `refs/<ref>`; an empty list (not a 404) when none does."""
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    prefix = "refs/" + request.match_info["ref"]
    refs = svc.storage.refs(found.full_name)
    items = [
        ref_json(ctx.urls(request), found, ref, sha) for ref, sha in sorted(refs.items()) if ref.startswith(prefix)
    ]
    return ctx.paginate(request, items)


@routes.post(REPO + "/git/refs")
async def create_ref(request: web.Request) -> web.Response:
    found, who = ctx.repo(request, "write")
    svc = ctx.services(request)
    data = await ctx.body(request)
    ref, sha = data.get("ref"), data.get("sha")
    # Beyond a malformed name, the refs API answers with a bare message and no `errors`.
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
        ctx.validation_failed("Reference", None, "invalid", "ref", docs=REF_DOCS)
    if not isinstance(sha, str) or svc.storage.resolve(found.full_name, sha) is None:
        ctx.fail(422, "Object does not exist", docs=REF_DOCS)
    if ref in svc.storage.refs(found.full_name):
        ctx.fail(422, "Reference already exists", docs=REF_DOCS)
    before = svc.storage.refs(found.full_name)
    svc.storage.update_ref(found.full_name, ref, sha)
    refs_moved(svc, ctx.urls(request), found, before, who)
    sync_pulls(ctx.services(request), ctx.urls(request), found, who)
    body = ref_json(ctx.urls(request), found, ref, sha)
    return ctx.json_response(body, status=201, headers={"Location": body["url"]})


@routes.patch(REPO + "/git/refs/{ref:.+}")
async def update_ref(request: web.Request) -> web.Response:
    found, who = ctx.repo(request, "write")
    svc = ctx.services(request)
    data = await ctx.body(request)
    ref = "refs/" + request.match_info["ref"]
    sha = data.get("sha")
    current = svc.storage.refs(found.full_name).get(ref)
    if current is None:
        ctx.fail(422, "Reference does not exist", docs=UPDATE_REF_DOCS)
    if not isinstance(sha, str) or svc.storage.resolve(found.full_name, sha) is None:
        ctx.fail(422, "Object does not exist", docs=UPDATE_REF_DOCS)
    if not data.get("force") and not svc.storage.is_ancestor(found.full_name, current, sha):
        ctx.fail(422, "Update is not a fast forward", docs=UPDATE_REF_DOCS)
    before = svc.storage.refs(found.full_name)
    svc.storage.update_ref(found.full_name, ref, sha)
    refs_moved(svc, ctx.urls(request), found, before, who)
    sync_pulls(ctx.services(request), ctx.urls(request), found, who)
    return ctx.json_response(ref_json(ctx.urls(request), found, ref, sha))


@routes.delete(REPO + "/git/refs/{ref:.+}")
async def delete_ref(request: web.Request) -> web.Response:
    found, who = ctx.repo(request, "write")
    svc = ctx.services(request)
    ref = "refs/" + request.match_info["ref"]
    if ref not in svc.storage.refs(found.full_name):
        ctx.fail(422, "Reference does not exist", docs=DELETE_REF_DOCS)
    before = svc.storage.refs(found.full_name)
    svc.storage.delete_ref(found.full_name, ref)
    refs_moved(svc, ctx.urls(request), found, before, who)
    sync_pulls(ctx.services(request), ctx.urls(request), found, who)
    return web.Response(status=204)


@routes.get(REPO + "/commits/{ref:[^/]+}")
async def get_commit(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    sha = svc.storage.resolve(found.full_name, request.match_info["ref"])
    if sha is None:
        ctx.validation_failed("Commit", f"No commit found for SHA: {request.match_info['ref']}", "invalid")
    return ctx.json_response(commit_json(svc.store, ctx.urls(request), found, svc.storage.commit(found.full_name, sha)))


@routes.get(REPO + "/git/commits/{sha}")
async def get_git_commit(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    sha = svc.storage.resolve(found.full_name, request.match_info["sha"])
    if sha is None:
        ctx.fail(404, "Not Found")
    return ctx.json_response(git_commit_json(ctx.urls(request), found, svc.storage.commit(found.full_name, sha)))


@routes.get(REPO + "/contents{path:(/.*)?}")
async def get_contents(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    svc = ctx.services(request)
    path = request.match_info["path"].strip("/")
    ref = request.query.get("ref", found.default_branch)
    base = ctx.urls(request)
    entries = svc.storage.list_tree(found.full_name, ref, path)
    if entries is not None:
        listing = []
        for kind, sha, name in entries:
            child = f"{path}/{name}" if path else name
            # GitHub lists a file with its size in bytes, a directory with 0.
            size = int(svc.storage.out(found.full_name, "cat-file", "-s", sha)) if kind == "blob" else 0
            listing.append(_content(base, found, ref, child, sha, kind, size=size))
        return ctx.json_response(listing)
    blob = svc.storage.read_blob(found.full_name, ref, path)
    if blob is None:
        ctx.fail(404, "Not Found")
    sha = svc.storage.out(found.full_name, "rev-parse", f"{ref}:{path}")
    body = _content(base, found, ref, path, sha, "blob", size=len(blob))
    return ctx.json_response({**body, "encoding": "base64", "content": base64.b64encode(blob).decode()})


def _content(base: Urls, found: Repo, ref: str, path: str, sha: str, kind: str, size: int) -> dict[str, object]:
    """A `content-file` or a directory entry, with its git, html and API links."""
    api = f"{base.repo_api(found)}/contents/{path}?ref={ref}"
    git_url = f"{base.repo_api(found)}/git/{'trees' if kind == 'tree' else 'blobs'}/{sha}"
    html = f"{base.repo_html(found)}/{'tree' if kind == 'tree' else 'blob'}/{ref}/{path}"
    return {
        "type": "dir" if kind == "tree" else "file",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": size,
        "url": api,
        "html_url": html,
        "git_url": git_url,
        "download_url": None if kind == "tree" else f"{base.repo_html(found)}/raw/{ref}/{path}",
        "_links": {"self": api, "git": git_url, "html": html},
    }


@routes.get(REPO + "/collaborators")
async def list_collaborators(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    store = ctx.services(request).store
    logins = [found.owner, *sorted(found.collaborators)]
    return ctx.paginate(request, [_collaborator(store, ctx.urls(request), found, login) for login in logins])


def _collaborator(store: Store, urls: Urls, found: Repo, login: str) -> dict[str, object]:
    """A `collaborator`: the user, its role and what it may do."""
    permission = store.permission(found, login)
    rank = PERMISSION_RANK[permission]
    flags = {"pull": 1, "triage": 2, "push": 3, "maintain": 4, "admin": 5}
    return {
        **(user_json(store, urls, login) or {}),
        "role_name": permission,
        "permissions": {name: rank >= needed for name, needed in flags.items()},
    }


@routes.get(REPO + "/collaborators/{user}")
async def is_collaborator(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    user = request.match_info["user"]
    return web.Response(status=204 if user == found.owner or user in found.collaborators else 404)


@routes.put(REPO + "/collaborators/{user}")
async def add_collaborator(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request, "admin")
    store = ctx.services(request).store
    data = await ctx.body(request)
    permission = {"pull": "read", "push": "write"}.get(str(data.get("permission", "push")), str(data.get("permission")))
    if permission not in PERMISSION_RANK:
        ctx.validation_failed("Collaborator", "permission must be pull, triage, push, maintain or admin", "invalid")
    store.add_user(request.match_info["user"])
    found.collaborators[request.match_info["user"]] = permission
    return web.Response(status=204)


@routes.get(REPO + "/collaborators/{user}/permission")
async def collaborator_permission(request: web.Request) -> web.Response:
    found, _ = ctx.repo(request)
    store = ctx.services(request).store
    user = request.match_info["user"]
    if user not in store.users:
        ctx.fail(404, "Not Found")
    permission = store.permission(found, user)
    # GitHub's legacy `permission` knows only admin, write, read and none; `role_name` is the role itself.
    legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
    return ctx.json_response(
        {"permission": legacy, "role_name": permission, "user": _collaborator(store, ctx.urls(request), found, user)}
    )
