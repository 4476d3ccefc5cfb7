"""The API server's `pods/log` hook, answered by a kubelet over HTTP.

A real API server proxies `pods/log` to the kubelet's endpoint; `HttpLogSource` does the same
for the emulator (`set_log_source(app, HttpLogSource(kubelet_url))`), so the kubelet may run
in another thread, event loop or process than the API server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp

from atomesh.devstack.kube.logs import LogUnavailable

_CHUNK = 64 * 1024


class HttpLogSource:
    """A `LogSource` reading ``GET {url}/containerLogs/{namespace}/{pod}/{container}``."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    async def read(
        self, namespace: str, pod: str, container: str, follow: bool, tail_lines: int | None
    ) -> AsyncIterator[bytes]:
        params = {"follow": "true" if follow else "false"}
        if tail_lines is not None:
            params["tailLines"] = str(tail_lines)
        path = f"/containerLogs/{quote(namespace)}/{quote(pod)}/{quote(container)}"
        timeout = aiohttp.ClientTimeout(total=None, connect=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self.url + path, params=params) as response,
        ):
            if response.status != 200:
                raise LogUnavailable((await response.text()).strip())
            async for chunk in response.content.iter_chunked(_CHUNK):
                yield chunk
