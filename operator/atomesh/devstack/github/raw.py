"""`GET /{owner}/{repo}/raw/{ref}/{path}`: a file's bytes at a branch, tag, commit or full ref name.

github.com answers this URL with a redirect to raw.githubusercontent.com, which serves the bytes; the
emulator serves them itself (a client that follows redirects sees the same bytes). As there, the ref
may contain slashes (`refs/atomesh/assets/<run>/...`): the shortest leading part that names a
revision holding the rest as a file wins. Images keep their media type so pull request bodies can
show them; everything else is text/plain or octet-stream, and every answer is sandboxed
(`nosniff`, a CSP that runs nothing), as GitHub's raw host does, so a committed page or SVG never
runs script in the emulator's origin.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from aiohttp import web

from . import context as ctx

routes = web.RouteTableDef()

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def media_type(path: str, data: bytes) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_TYPES:
        return IMAGE_TYPES[suffix]
    if b"\0" in data[:8192]:
        return mimetypes.guess_type(path)[0] or "application/octet-stream"
    return "text/plain; charset=utf-8"


@routes.get("/{owner}/{name}/raw/{rest:.+}")
async def raw_file(request: web.Request) -> web.Response:
    svc = ctx.services(request)
    full_name = f"{request.match_info['owner']}/{request.match_info['name']}"
    found = svc.store.repo(full_name)
    if found is None or found.private:
        # Private repositories' raw files need a token on github.com; the HTML view has none.
        raise web.HTTPNotFound(text="404: Not Found")
    parts = request.match_info["rest"].split("/")
    for cut in range(1, len(parts)):
        ref, path = "/".join(parts[:cut]), "/".join(parts[cut:])
        if ref.startswith("-") or ".." in parts or not path:
            break  # never an option to git, never a path outside the tree
        data = svc.storage.read_blob(found.full_name, ref, path)
        if data is not None:
            kind = media_type(path, data)
            content_type, _, charset = kind.partition("; charset=")
            return web.Response(
                body=data,
                content_type=content_type,
                charset=charset or None,
                headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": SANDBOX},
            )
    raise web.HTTPNotFound(text="404: Not Found")
