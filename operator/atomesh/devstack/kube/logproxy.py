"""`pods/log` proxied to a kubelet over HTTP, as kube-apiserver proxies it to the pod's node.

A real API server reads the node of the pod (`spec.nodeName`), its `InternalIP` address and
`status.daemonEndpoints.kubeletEndpoint.Port`, and forwards the request to the kubelet's
`/containerLogs/{namespace}/{pod}/{container}` (`pkg/registry/core/pod/rest/log.go` with
`pkg/kubelet/client`). `node_source` does the same for the emulator, so the log of a pod run by a
kubelet in another process (`atomesh dev --join` against `atomesh dev --only kube`) is served too;
a kubelet in the emulator's own process may still register itself with `set_log_source`. The
local kubelet speaks plain HTTP on loopback; a real kubelet's HTTPS port is not reachable this way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp

from atomesh.devstack.kube.logs import LogUnavailable
from atomesh.devstack.kube.nodes import NODES
from atomesh.devstack.kube.store import Store

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
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self.url + path, params=params) as response,
            ):
                if response.status != 200:
                    raise LogUnavailable((await response.text()).strip())
                async for chunk in response.content.iter_chunked(_CHUNK):
                    yield chunk
        except aiohttp.ClientConnectionError as exc:
            raise LogUnavailable(f"the kubelet at {self.url} did not answer: {exc}") from exc


def node_source(store: Store, pod: dict[str, Any]) -> HttpLogSource | None:
    """The kubelet endpoint of the pod's Node, from what that kubelet registered; None without one."""
    node_name = (pod.get("spec") or {}).get("nodeName")
    stored = store.get(NODES, "", node_name) if node_name else None
    if stored is None:
        return None
    status = stored.obj.get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    address = next((a.get("address") for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), None)
    if not port or not address:
        return None
    host = f"[{address}]" if ":" in str(address) else str(address)
    return HttpLogSource(f"http://{host}:{port}")
