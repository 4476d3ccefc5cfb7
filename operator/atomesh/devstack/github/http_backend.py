"""Git smart HTTP for the emulator's bare repositories, served by the real `git http-backend` CGI.

Clients authenticate with the token as Basic password (or user), or as a Bearer header
(`http.extraheader`). Anonymous requests get a Basic challenge so git asks its credential
helper, as with github.com. Fetching needs read permission, pushing write; after a push the
emulator refreshes pull requests whose head moved (a `synchronize` webhook).
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess

from aiohttp import web

from . import context as ctx
from .events import sync_pulls
from .pushes import refs_moved

routes = web.RouteTableDef()
CHALLENGE = {"WWW-Authenticate": 'Basic realm="atomesh GitHub emulator"'}


@functools.cache
def _backend() -> str:
    git = shutil.which("git")
    if git is None:
        raise RuntimeError("git is not on PATH; the GitHub emulator serves clones with `git http-backend`")
    exec_path = subprocess.run([git, "--exec-path"], capture_output=True, text=True, check=True).stdout.strip()
    candidate = os.path.join(exec_path, "git-http-backend")
    if os.path.exists(candidate):
        return candidate
    found = shutil.which("git-http-backend")
    if found is None:
        raise RuntimeError("git-http-backend not found; install git (it ships the CGI in `git --exec-path`)")
    return found


def _denied(status: int, message: str) -> web.Response:
    headers = CHALLENGE if status == 401 else {}
    return web.Response(status=status, text=message + "\n", headers=headers)


async def _run_cgi(
    request: web.Request, path_info: str, root: str, remote_user: str, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "GIT_PROJECT_ROOT": root,
        "GIT_HTTP_EXPORT_ALL": "1",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": root,
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": request.remote or "127.0.0.1",
        "REQUEST_METHOD": request.method,
        "PATH_INFO": path_info,
        "QUERY_STRING": request.query_string,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if "Git-Protocol" in request.headers:
        env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
    process = await asyncio.create_subprocess_exec(
        _backend(),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # Ctrl-C in the terminal stops the stack, not a clone or push mid-request
    )
    out, err = await process.communicate(body)
    head, _, payload = out.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = out.partition(b"\n\n")
    status = 200
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        elif name:
            headers[name.strip()] = value.strip()
    if process.returncode != 0 and status == 200:
        return 500, {}, err
    return status, headers, payload


@routes.route("*", "/{owner}/{name:[^/]+\\.git}/{path:.*}")
async def git_http(request: web.Request) -> web.StreamResponse:
    svc = ctx.services(request)
    full_name = f"{request.match_info['owner']}/{request.match_info['name'][: -len('.git')]}"
    repo = svc.store.repo(full_name)
    credential = ctx.bearer(request)
    token = svc.store.tokens.get(credential) if credential else None
    if credential is not None and token is None:
        return _denied(401, "Bad credentials")
    who = token.login if token else None
    if repo is None:
        return _denied(401 if who is None else 404, "Repository not found")
    pushing = request.query.get("service") == "git-receive-pack" or request.path.endswith("/git-receive-pack")
    needed = "write" if pushing else "read"
    if who is None:
        # Like GitHub for private repos and for every push: ask the client for credentials.
        return _denied(401, "Authentication required")
    if not svc.store.allows(repo, who, needed):
        return _denied(403, f"Permission to {repo.full_name} denied to {who}.")
    body = await request.read()
    # The CGI path must name the stored repository, whatever case the client used.
    path_info = request.path.replace(f"/{full_name}.git", f"/{repo.full_name}.git", 1)
    before = svc.storage.refs(repo.full_name) if pushing and request.method == "POST" else {}
    status, headers, payload = await _run_cgi(request, path_info, str(svc.storage.root), who, body)
    headers.pop("Content-Length", None)
    response = web.Response(status=status, body=payload, headers=headers)
    if pushing and request.method == "POST" and status == 200:
        refs_moved(svc, ctx.urls(request), repo, before, who)
        sync_pulls(svc, ctx.urls(request), repo, who)
    return response
