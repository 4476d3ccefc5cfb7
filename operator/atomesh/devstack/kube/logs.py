"""The pod `log` subresource. The API server owns no containers: whoever runs them (the local
kubelet) registers a `LogSource` with `set_log_source(app, source)`; without one, logs answer
like a kubelet whose container has not started."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from aiohttp import web

from atomesh.devstack.kube.errors import bad_request

Obj = dict[str, Any]


class LogUnavailable(LookupError):
    """Raised by a LogSource (before its first chunk) when it has no log for that container; answered as 400."""


class LogSource(Protocol):
    def read(
        self, namespace: str, pod: str, container: str, follow: bool, tail_lines: int | None
    ) -> AsyncIterator[bytes]: ...


def choose_container(pod: Obj, requested: str | None) -> str:
    """The container named by `?container=`, else the only one; errors name the choices, like kubelet."""
    spec = pod.get("spec") or {}
    name = pod["metadata"]["name"]
    containers = [c.get("name", "") for c in spec.get("containers") or []]
    init = [c.get("name", "") for c in spec.get("initContainers") or []]
    if requested:
        if requested not in containers + init:
            raise bad_request(f"container {requested} is not valid for pod {name}")
        return str(requested)
    if len(containers) == 1:
        return str(containers[0])
    choices = " ".join(containers)
    raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{choices}]")


async def serve(
    request: web.Request, source: LogSource | None, pod: Obj, container: str, follow: bool, tail_lines: int | None
) -> web.StreamResponse:
    meta = pod["metadata"]
    waiting = f'container "{container}" in pod "{meta["name"]}" is waiting to start: ContainerCreating'
    if source is None:
        raise bad_request(waiting)
    chunks = source.read(meta.get("namespace", ""), meta["name"], container, follow, tail_lines)
    try:
        first = await chunks.__anext__()
    except StopAsyncIteration:
        first = b""
    except LogUnavailable as exc:
        raise bad_request(str(exc) or waiting) from exc
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if first:
            await response.write(first)
        async for chunk in chunks:
            await response.write(chunk)
    except ConnectionResetError:
        pass
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    await response.write_eof()
    return response
