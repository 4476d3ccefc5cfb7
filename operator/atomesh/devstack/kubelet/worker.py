"""The life of one pod on the local kubelet: accept, prepare, run init containers then
containers, report status, and stop on deadline, deletion or kubelet shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from atomesh.devstack.kubelet.apiclient import MERGE_PATCH, ApiClient, ApiStatusError, pod_path
from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.devstack.kubelet.events import build_event, container_field_path, event_name
from atomesh.devstack.kubelet.layout import PodConfigError, PodLayout
from atomesh.devstack.kubelet.plan import ContainerPlan, build_container_plan
from atomesh.devstack.kubelet.process import ContainerProcess, StartError, read_termination_message
from atomesh.devstack.kubelet.sandbox import create_sandbox
from atomesh.devstack.kubelet.sidecars import Sidecars
from atomesh.devstack.kubelet.status import (
    DEADLINE_MESSAGE,
    REASON_DEADLINE,
    ContainerRecord,
    PodRecord,
    build_pod_status,
    now_rfc3339,
)
from atomesh.devstack.kubelet.tokens import fetch_tokens
from atomesh.devstack.kubelet.volumes import Resources, collect_references, decode_data

log = logging.getLogger(__name__)
DEFAULT_GRACE_SECONDS = 30
START_ERROR_EXIT_CODE = 128
_PLURALS = {"Secret": "secrets", "ConfigMap": "configmaps"}


def grace_seconds(pod: dict[str, Any]) -> float:
    meta_grace = (pod.get("metadata") or {}).get("deletionGracePeriodSeconds")
    spec_grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    for value in (meta_grace, spec_grace):
        if value is not None:
            return float(value)
    return float(DEFAULT_GRACE_SECONDS)


class PodWorker:
    def __init__(self, config: KubeletConfig, api: ApiClient, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        spec = pod.get("spec") or {}
        self.config = config
        self.api = api
        self.pod = pod
        self.namespace: str = meta.get("namespace", "default")
        self.name: str = meta["name"]
        self.uid: str = meta.get("uid", "")
        self.layout = PodLayout.for_pod(config.root_dir, self.namespace, self.name, self.uid)
        has_init = bool(spec.get("initContainers"))
        self.init_records = [
            ContainerRecord(
                c["name"],
                c.get("image", ""),
                True,
                waiting_reason="PodInitializing",
                sidecar=c.get("restartPolicy") == "Always",
            )
            for c in spec.get("initContainers") or []
        ]
        self.main_records = [
            ContainerRecord(
                c["name"], c.get("image", ""), False, "PodInitializing" if has_init else "ContainerCreating"
            )
            for c in spec.get("containers") or []
        ]
        self.pod_record = PodRecord(start_time=now_rfc3339())
        self._conditions: list[dict[str, Any]] = []
        self._plans: dict[str, ContainerPlan] = {}
        self._processes: dict[str, ContainerProcess] = {}
        self._sidecars = Sidecars()
        self._reported_errors: set[str] = set()
        self._stop_grace: float | None = None
        self.deleting = False
        self.gone = False  # the pod no longer exists on the server
        self.shutting_down = False
        self.task: asyncio.Task[None] | None = None

    # -- what the kubelet calls -------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run(), name=f"pod {self.namespace}/{self.name}")

    def record(self, container: str) -> ContainerRecord | None:
        return next((r for r in [*self.init_records, *self.main_records] if r.name == container), None)

    def request_delete(self, pod: dict[str, Any]) -> None:
        """Graceful deletion: stop the containers within the grace period, then confirm."""
        if self.deleting:
            return
        self.pod = pod
        self.deleting = True
        self._stop_grace = grace_seconds(pod)
        if self.task is not None and not self.task.done():
            self.task.cancel()
        else:
            self.task = asyncio.get_running_loop().create_task(self._confirm_deletion())

    def mark_gone(self) -> None:
        """The pod was deleted outright: stop the containers, write nothing more."""
        self.gone = True
        if self.task is not None and not self.task.done():
            self._stop_grace = grace_seconds(self.pod) if self._stop_grace is None else self._stop_grace
            self.task.cancel()

    async def shutdown(self) -> None:
        """Kubelet stop: processes get a short grace, nothing is written to the server."""
        self.shutting_down = True
        self._stop_grace = self.config.shutdown_grace
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self._kill_all()

    # -- the lifecycle -----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._lifecycle()
        except asyncio.CancelledError:
            if self.shutting_down:
                raise
        finally:
            await self._sidecars.stop()
            self._kill_all()
        if self.deleting and not self.gone:
            await self._push_status()
            await self._confirm_deletion()

    async def _lifecycle(self) -> None:
        if not await self._accept():
            return
        deadline = (self.pod.get("spec") or {}).get("activeDeadlineSeconds")
        scope = asyncio.timeout(float(deadline) if deadline is not None else None)
        try:
            async with scope:
                if not await self._prepare():
                    return
                try:
                    if await self._run_all(self.init_records, sequential=True):
                        await self._run_all(self.main_records, sequential=False)
                finally:
                    if scope.expired():
                        # As the kubelet does, the pod is Failed with DeadlineExceeded before its
                        # containers are stopped: no status in between shows a plain failure.
                        self._deadline_exceeded()
                    await self._stop_sidecars()
        except TimeoutError:
            if not scope.expired():
                raise
            self._deadline_exceeded()
            await self._event(REASON_DEADLINE, DEADLINE_MESSAGE)
            await self._push_status()

    def _deadline_exceeded(self) -> None:
        self.pod_record.failed = True
        self.pod_record.reason = REASON_DEADLINE
        self.pod_record.message = DEADLINE_MESSAGE

    async def _accept(self) -> bool:
        """Bind an unassigned pod to this node; False when it went to another node (a scheduler won)."""
        node = self.config.node_name
        if (self.pod.get("spec") or {}).get("nodeName") != node:
            if not await self._bind(node):
                log.info("pod %s/%s was bound elsewhere; not running it", self.namespace, self.name)
                return False
            await self._event(
                "Scheduled",
                f"Successfully assigned {self.namespace}/{self.name} to {node}",
                component="default-scheduler",
            )
        await self._push_status()
        return True

    async def _bind(self, node: str) -> bool:
        """Bind as a scheduler does (pods/binding); fall back to patching spec.nodeName. Whether the pod
        is bound here in the end: with a real scheduler beside us, the API server lets one binding win."""
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            await self.api.request("POST", pod_path(self.namespace, self.name, "binding"), binding)
            return True
        except ApiStatusError as exc:
            log.debug("binding %s/%s: %s; patching spec.nodeName instead", self.namespace, self.name, exc)
        try:
            patch = {"spec": {"nodeName": node}}
            await self.api.request("PATCH", pod_path(self.namespace, self.name), patch, content_type=MERGE_PATCH)
            return True
        except ApiStatusError as exc:
            log.debug("cannot set spec.nodeName of %s/%s: %s", self.namespace, self.name, exc)
        current = await self.api.get(pod_path(self.namespace, self.name))
        return current is not None and (current.get("spec") or {}).get("nodeName") == node

    async def _fetch(self) -> Resources:
        resources: dict[tuple[str, str], dict[str, bytes]] = {}
        for kind, name in sorted(collect_references(self.pod)):
            obj = await self.api.get(f"/api/v1/namespaces/{self.namespace}/{_PLURALS[kind]}/{name}")
            if obj is not None:
                resources[(kind, name)] = decode_data(kind, obj)
        resources.update(await fetch_tokens(self.api, self.pod))
        return resources

    async def _prepare(self) -> bool:
        """Volumes and process plans; a missing Secret/ConfigMap keeps the pod Pending and is
        retried; an error no retry can fix fails the pod. False when the pod cannot run."""
        spec = self.pod.get("spec") or {}
        containers = [(c, True) for c in spec.get("initContainers") or []]
        containers += [(c, False) for c in spec.get("containers") or []]
        while True:
            try:
                resources = await self._fetch()
                create_sandbox(self.layout, self.pod, resources)
                self.pod_record.sandbox_ready = True
                for container, init in containers:
                    self._plans[container["name"]] = self._plan(container, init, resources)
                return True
            except PodConfigError as error:
                if not await self._report_config_error(error):
                    return False
            except (ApiStatusError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("pod %s/%s: cannot read its Secrets/ConfigMaps yet: %s", self.namespace, self.name, exc)
            await asyncio.sleep(self.config.retry_interval)

    def _plan(self, container: dict[str, Any], init: bool, resources: Resources) -> ContainerPlan:
        try:
            return build_container_plan(
                self.config, self.pod, container, init=init, layout=self.layout, resources=resources
            )
        except PodConfigError as error:
            record = self.record(container["name"])
            if record is not None:
                record.waiting_reason, record.waiting_message = error.reason, error.message
            raise

    async def _report_config_error(self, error: PodConfigError) -> bool:
        if error.message not in self._reported_errors:
            self._reported_errors.add(error.message)
            reason = error.reason if error.reason == "FailedMount" else "Failed"
            message = error.message if error.reason == "FailedMount" else f"Error: {error.message}"
            await self._event(reason, message, warning=True)
        if not error.retryable:
            self.pod_record.failed = True
            self.pod_record.reason = error.reason
            self.pod_record.message = error.message
        await self._push_status()
        return error.retryable

    async def _run_all(self, records: list[ContainerRecord], *, sequential: bool) -> bool:
        if sequential:
            for record in records:
                if record.sidecar:
                    await self._start_sidecar(record)
                elif not await self._run_container(record):
                    return False
            return True
        for record in records:
            record.waiting_reason = "ContainerCreating"
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._run_container(record)) for record in records]
        return all(task.result() for task in tasks)

    async def _run_container(self, record: ContainerRecord) -> bool:
        plan = self._plans[record.name]
        field_path = container_field_path(record.name, record.init)
        await self._event("Created", f"Created container: {record.name}", field_path=field_path)
        try:
            process = ContainerProcess.start(plan)
        except StartError as exc:
            record.terminate(START_ERROR_EXIT_CODE, now_rfc3339(), str(exc), reason="StartError")
            await self._event("Failed", f"Error: {exc}", warning=True, field_path=field_path)
            await self._push_status()
            return False
        self._processes[record.name] = process
        record.container_id = f"local://{self.uid}/{record.name}/{process.pid}"
        record.started_at = now_rfc3339()
        try:
            await self._event("Started", f"Started container {record.name}", field_path=field_path)
            await self._push_status()
            code = await process.wait()
        except asyncio.CancelledError:
            grace = self._stop_grace if self._stop_grace is not None else grace_seconds(self.pod)
            if not self.shutting_down and not self.gone:
                await self._event("Killing", f"Stopping container {record.name}", field_path=field_path)
            code = await process.stop(grace)
            record.terminate(code, now_rfc3339(), read_termination_message(plan, code))
            raise
        finally:
            if process.poll() is None:
                process.kill()
        record.terminate(code, now_rfc3339(), read_termination_message(plan, code))
        await self._push_status()
        return code == 0

    async def _start_sidecar(self, record: ContainerRecord) -> None:
        field_path = container_field_path(record.name, record.init)

        async def backoff() -> None:
            message = f"Back-off restarting failed container {record.name}"
            await self._event("BackOff", message, warning=True, field_path=field_path)

        await self._sidecars.start(record.name, lambda started: self._run_sidecar(record, started), backoff)

    async def _run_sidecar(self, record: ContainerRecord, started: asyncio.Event) -> None:
        """One life of a sidecar's process, until it exits or the pod stops it."""
        plan = self._plans[record.name]
        field_path = container_field_path(record.name, record.init)
        await self._event("Created", f"Created container: {record.name}", field_path=field_path)
        try:
            process = ContainerProcess.start(plan)
        except StartError as exc:
            record.terminate(START_ERROR_EXIT_CODE, now_rfc3339(), str(exc), reason="StartError")
            await self._event("Failed", f"Error: {exc}", warning=True, field_path=field_path)
            await self._push_status()
            return
        self._processes[record.name] = process
        record.restart(now_rfc3339())
        record.container_id = f"local://{self.uid}/{record.name}/{process.pid}"
        started.set()
        await self._event("Started", f"Started container {record.name}", field_path=field_path)
        await self._push_status()
        try:
            code = await process.wait()
        except asyncio.CancelledError:
            grace = self._stop_grace if self._stop_grace is not None else grace_seconds(self.pod)
            code = await process.stop(grace)
            record.terminate(code, now_rfc3339(), read_termination_message(plan, code))
            raise
        record.terminate(code, now_rfc3339(), read_termination_message(plan, code))
        await self._push_status()

    async def _stop_sidecars(self) -> None:
        """The pod's containers are done: stop the sidecars, last started first."""
        if await self._sidecars.stop():
            await self._push_status()

    def _kill_all(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()

    # -- talking to the API server -----------------------------------------------------------

    async def _push_status(self) -> None:
        if self.gone or self.shutting_down:
            return
        now = now_rfc3339()
        status = build_pod_status(self.pod_record, self.init_records, self.main_records, self._conditions, now)
        self._conditions = status["conditions"]
        try:
            await self.api.request(
                "PATCH", pod_path(self.namespace, self.name, "status"), {"status": status}, content_type=MERGE_PATCH
            )
        except ApiStatusError as exc:
            if exc.code == 404:
                self.gone = True
            else:
                log.warning("pod %s/%s: status not written: %s", self.namespace, self.name, exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("pod %s/%s: status not written: %s", self.namespace, self.name, exc)

    async def _event(
        self,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        field_path: str | None = None,
        component: str = "kubelet",
    ) -> None:
        if self.gone or self.shutting_down:
            return
        event = build_event(
            self.pod,
            reason,
            message,
            now=now_rfc3339(),
            node=self.config.node_name,
            name=event_name(self.name),
            warning=warning,
            field_path=field_path,
            component=component,
        )
        try:
            await self.api.request("POST", f"/api/v1/namespaces/{self.namespace}/events", event)
        except (ApiStatusError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("pod %s/%s: event %s not posted: %s", self.namespace, self.name, reason, exc)

    async def _confirm_deletion(self) -> None:
        """Containers are stopped: finish the graceful delete, as kubelets do, with grace 0."""
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": self.uid},
        }
        try:
            await self.api.request("DELETE", pod_path(self.namespace, self.name), options)
        except ApiStatusError as exc:
            if exc.code not in (404, 409):
                log.warning("pod %s/%s: deletion not confirmed: %s", self.namespace, self.name, exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("pod %s/%s: deletion not confirmed: %s", self.namespace, self.name, exc)
