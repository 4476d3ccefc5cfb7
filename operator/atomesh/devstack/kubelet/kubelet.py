"""The local kubelet: watches Pods over the API, runs the ones it handles as local processes
(one `PodWorker` each), registers a Node, and serves container logs over HTTP the way a
kubelet does (``GET /containerLogs/{namespace}/{pod}/{container}``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from atomesh.devstack.kubelet.apiclient import MERGE_PATCH, ApiClient, ApiStatusError
from atomesh.devstack.kubelet.config import KubeletConfig, handles_pod
from atomesh.devstack.kubelet.heartbeat import NodeHeartbeat
from atomesh.devstack.kubelet.logs import stream_log
from atomesh.devstack.kubelet.sandbox import remove_sandbox
from atomesh.devstack.kubelet.worker import PodWorker

log = logging.getLogger(__name__)
WATCH_TIMEOUT_SECONDS = 300
RECONNECT_DELAY = 0.5
TERMINAL_PHASES = ("Succeeded", "Failed")
# Ours, in the style of the kubelet's admission reasons (NodeAffinity, OutOfcpu, ...).
REJECTED_REASON = "UnsupportedImage"


class LogError(Exception):
    """A log request that cannot be served; `code` is the HTTP status to answer with."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Kubelet:
    def __init__(self, config: KubeletConfig) -> None:
        self.config = config
        self._api: ApiClient | None = None
        self._workers: dict[str, PodWorker] = {}
        self._watch_task: asyncio.Task[None] | None = None
        self._cleanups: set[asyncio.Task[None]] = set()
        self._synced = asyncio.Event()
        self._heartbeat: NodeHeartbeat | None = None
        self._rejected: set[str] = set()

    @property
    def api(self) -> ApiClient:
        if self._api is None:
            raise RuntimeError("the kubelet is not started: call `await kubelet.start()` first")
        return self._api

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, log_url: str | None = None) -> None:
        """Register the Node (NodeRegistrationError when the server refuses it), start its heartbeats
        and watch Pods."""
        self._api = ApiClient(self.config.server, self.config.token, self.config.tls)
        self.config.root_dir.mkdir(parents=True, exist_ok=True)
        heartbeat = NodeHeartbeat(self.config, self._api, urlsplit(log_url).port if log_url else None)
        try:
            await heartbeat.register()
        except BaseException:
            await self._api.close()
            self._api = None
            raise
        self._heartbeat = heartbeat
        heartbeat.start()
        self._watch_task = asyncio.get_running_loop().create_task(self._watch_loop(), name="kubelet watch")

    async def wait_synced(self) -> None:
        """Returns once the first list of Pods was processed."""
        await self._synced.wait()

    async def stop(self) -> None:
        """Stop watching and heartbeats and kill every process this kubelet started. The Node stays,
        as a real kubelet's does: the node lifecycle controller marks it Unknown once its Lease expires."""
        if self._heartbeat is not None:
            await self._heartbeat.stop()
            self._heartbeat = None
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
            self._watch_task = None
        await asyncio.gather(*(worker.shutdown() for worker in self._workers.values()))
        for task in list(self._cleanups):
            task.cancel()
        await asyncio.gather(*self._cleanups, return_exceptions=True)
        if self._api is not None:
            await self._api.close()
            self._api = None

    # -- watching pods ------------------------------------------------------------------------

    def _pods_path(self) -> str:
        namespace = self.config.namespace
        return f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"

    async def _watch_loop(self) -> None:
        resource_version: str | None = None
        while True:
            try:
                if resource_version is None:
                    resource_version = await self._relist()
                params = {
                    "resourceVersion": resource_version,
                    "allowWatchBookmarks": "true",
                    "timeoutSeconds": str(WATCH_TIMEOUT_SECONDS),
                }
                async for event in self.api.watch(self._pods_path(), params):
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR":
                        log.info("pod watch expired (%s); listing again", obj.get("message"))
                        resource_version = None
                        break
                    resource_version = (obj.get("metadata") or {}).get("resourceVersion", resource_version)
                    if event.get("type") != "BOOKMARK":
                        self._observe(str(event.get("type")), obj)
            except ApiStatusError as exc:
                log.warning("pod watch failed: %s", exc)
                if exc.code == 410:
                    resource_version = None
                await asyncio.sleep(RECONNECT_DELAY)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("pod watch interrupted: %s", exc)
                await asyncio.sleep(RECONNECT_DELAY)

    async def _relist(self) -> str:
        listing = await self.api.request("GET", self._pods_path())
        items = listing.get("items") or []
        present = {(pod.get("metadata") or {}).get("uid") for pod in items}
        for uid in [uid for uid in self._workers if uid not in present]:
            self._forget(uid)
        for pod in items:
            self._observe("ADDED", pod)
        self._synced.set()
        return str((listing.get("metadata") or {}).get("resourceVersion", ""))

    def _observe(self, event_type: str, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        uid = meta.get("uid", "")
        worker = self._workers.get(uid)
        if event_type == "DELETED":
            if worker is not None:
                self._forget(uid)
            return
        if worker is not None:
            worker.pod = pod if not worker.deleting else worker.pod
            if meta.get("deletionTimestamp"):
                worker.request_delete(pod)
            return
        ours = (pod.get("spec") or {}).get("nodeName") == self.config.node_name
        phase = (pod.get("status") or {}).get("phase")
        if not handles_pod(self.config, pod):
            if (
                ours
                and phase not in TERMINAL_PHASES
                and not meta.get("deletionTimestamp")
                and uid not in self._rejected
            ):
                self._rejected.add(uid)
                self._spawn(self._reject(pod))
            return
        if meta.get("deletionTimestamp"):
            if ours:  # ran here before a kubelet restart: nothing left to stop, confirm the delete
                worker = PodWorker(self.config, self.api, pod)
                self._workers[uid] = worker
                worker.request_delete(pod)
            return
        if phase in TERMINAL_PHASES:
            return
        if ours and _any_container_started(pod):
            self._spawn(self._mark_lost(pod))
            return
        worker = PodWorker(self.config, self.api, pod)
        self._workers[uid] = worker
        worker.start()

    def _forget(self, uid: str) -> None:
        worker = self._workers.pop(uid)
        worker.mark_gone()

        async def cleanup() -> None:
            if worker.task is not None:
                await asyncio.gather(worker.task, return_exceptions=True)
            remove_sandbox(worker.layout)

        self._spawn(cleanup())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    async def _reject(self, pod: dict[str, Any]) -> None:
        """A pod bound to this Node that it cannot run (a DaemonSet that tolerates every taint, a pod
        bound by hand): refused as the kubelet's admission refuses a pod — phase Failed, a reason, and
        "Pod was rejected: ..." — instead of leaving it Pending without a word."""
        meta = pod["metadata"]
        images = sorted({str(c.get("image", "")) for c in _containers(pod)} - {""})
        unsupported = [image for image in images if not self.config.handles_image(image)] or images
        what = ", ".join(unsupported) or "a pod without containers"
        message = (
            f"Pod was rejected: the local runner on node {self.config.node_name} runs only images matching "
            f"{self.config.image_pattern!r}, as local processes; not {what}"
        )
        status = {"status": {"phase": "Failed", "reason": REJECTED_REASON, "message": message}}
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        log.warning("%s/%s: %s", meta["namespace"], meta["name"], message)
        with contextlib.suppress(ApiStatusError, aiohttp.ClientError, TimeoutError):
            await self.api.request("PATCH", path, status, content_type=MERGE_PATCH)

    async def _mark_lost(self, pod: dict[str, Any]) -> None:
        """A pod that was running here before the kubelet restarted: its processes are gone."""
        meta = pod["metadata"]
        status = {
            "status": {
                "phase": "Failed",
                "reason": "NodeRestarted",
                "message": "the local kubelet restarted while the pod ran; its processes are gone",
            }
        }
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        with contextlib.suppress(ApiStatusError, aiohttp.ClientError, TimeoutError):
            await self.api.request("PATCH", path, status, content_type=MERGE_PATCH)

    # -- logs -----------------------------------------------------------------------------------

    def _find(self, namespace: str, pod: str) -> PodWorker | None:
        for worker in self._workers.values():
            if worker.namespace == namespace and worker.name == pod:
                return worker
        return None

    def container_logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        tail_lines: int | None = None,
        limit_bytes: int | None = None,
        follow: bool = False,
    ) -> AsyncIterator[bytes]:
        """The log of one container, for the API server's pods/log; LogError when there is none.
        Messages follow the real kubelet's, which kubectl prints as they are."""
        worker = self._find(namespace, pod)
        if worker is None:
            raise LogError(
                404, f'pod "{pod}" in namespace "{namespace}" is not running on node {self.config.node_name}'
            )
        record = worker.record(container)
        if record is None:
            names = " ".join(r.name for r in [*worker.init_records, *worker.main_records])
            raise LogError(400, f"container {container} is not valid for pod {pod}; choose one of: [{names}]")
        if record.started_at is None:
            raise LogError(400, f'container "{container}" in pod "{pod}" is waiting to start: {record.waiting_reason}')
        return stream_log(
            worker.layout.log(container),
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
            follow=follow,
            finished=lambda: record.terminated or worker.gone,
        )

    def log_app(self) -> web.Application:
        """The kubelet's own HTTP endpoint (like port 10250): container logs."""
        app = web.Application()
        app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", self._handle_logs)
        app.router.add_get("/healthz", self._handle_healthz)
        return app

    async def log_app_factory(self) -> web.Application:
        return self.log_app()

    async def _handle_healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _handle_logs(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            chunks = self.container_logs(
                request.match_info["namespace"],
                request.match_info["pod"],
                request.match_info["container"],
                tail_lines=_int_param(query.get("tailLines")),
                limit_bytes=_int_param(query.get("limitBytes")),
                follow=query.get("follow") in ("true", "1"),
            )
        except LogError as exc:
            return web.Response(status=exc.code, text=exc.message)
        response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
        return response


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod.get("spec") or {}
    return [c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])] if isinstance(c, dict)]


def _any_container_started(pod: dict[str, Any]) -> bool:
    """Whether some container of `pod` ran (a pod that never got that far is simply run again)."""
    status = pod.get("status") or {}
    for entry in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = entry.get("state") or {}
        if "running" in state or "terminated" in state:
            return True
    return False


def _int_param(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"expected an integer, got {value!r}") from exc
