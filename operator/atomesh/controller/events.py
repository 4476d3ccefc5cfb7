"""Kubernetes Events, recorded as client-go's event recorder records them: correlated first
(`core.eventcorrelation`: a repeated Event patches the count of the first one, similar ones are
combined, a chatty object is throttled), then written from one background thread, so a reconcile
never waits on an Event and an Event that cannot be written is logged, never raised.

`log_event` is the poster of a context without an API server (unit tests): it only logs.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from atomesh.core.eventcorrelation import EventCorrelator, rfc3339
from atomesh.kube.client import Kube, KubeError
from atomesh.kube.resources import EVENTS

log = logging.getLogger(__name__)
COMPONENT = "atomesh-operator"  # source.component and reportingComponent of every Event atomesh posts
MESSAGE_LIMIT = 1024
QUEUE_LENGTH = 1000  # client-go's broadcaster queue: beyond it Events are dropped, not waited for


def _utc_now() -> datetime:
    return datetime.now(UTC)


def log_event(body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """Post nothing: log the Event (a context without an API server)."""
    meta = body.get("metadata") or {}
    log.info("event %s %s on %s/%s: %s", type_, reason, meta.get("namespace"), meta.get("name"), message)


def involved_object(body: Mapping[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata") or {}
    ref = {
        "apiVersion": body.get("apiVersion", ""),
        "kind": body.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    return {key: value for key, value in ref.items() if value}


class EventRecorder:
    """Records Events about objects through the Kubernetes port; `post` is the context's poster."""

    def __init__(
        self,
        kube: Kube,
        *,
        component: str = COMPONENT,
        instance: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        correlator: EventCorrelator | None = None,
    ) -> None:
        self.kube = kube
        self.component = component
        self.instance = instance or socket.gethostname()
        self.clock = clock
        self.correlator = correlator or EventCorrelator()
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(QUEUE_LENGTH)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last_nanos = 0
        self.dropped = 0

    def event(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> dict[str, Any]:
        """The core/v1 Event about `body`, as client-go's recorder makes it (name `<object>.<hex nanos>`)."""
        now = rfc3339(self.clock())
        ref = involved_object(body)
        with self._lock:
            self._last_nanos = max(time.time_ns(), self._last_nanos + 1)  # unique even within one tick
            nanos = self._last_nanos
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{ref.get('name', 'object')}.{nanos:x}", "namespace": ref.get("namespace", "")},
            "involvedObject": ref,
            "reason": reason,
            "message": message[:MESSAGE_LIMIT],
            "type": type_,
            "source": {"component": self.component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.instance,
        }

    def post(self, body: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Queue the Event for the background thread; dropped (and counted) when the queue is full."""
        if not (body.get("metadata") or {}).get("namespace"):
            log_event(body, type_, reason, message)  # an Event lives in its object's namespace
            return
        self.start()
        try:
            self._queue.put_nowait(self.event(body, type_, reason, message))
        except queue.Full:
            self.dropped += 1
            log.warning("event queue full: dropped %s %s: %s", type_, reason, message)

    def record(self, event: dict[str, Any]) -> None:
        """Correlate `event` and write what that asks for (a POST, or a PATCH of the first occurrence)."""
        correlated = self.correlator.correlate(event, self.clock())
        if correlated.skip:
            log.debug("event throttled for its object: %s %s", event["reason"], event["message"])
            return
        namespace = correlated.event["metadata"]["namespace"]
        try:
            stored = None
            if correlated.patch is not None:
                stored = self.kube.patch(EVENTS, namespace, correlated.event["metadata"]["name"], correlated.patch)
            if stored is None:  # new, or the first occurrence expired: create it (client-go does the same)
                created = {**correlated.event, "metadata": {**correlated.event["metadata"]}}
                created["metadata"].pop("resourceVersion", None)
                stored, _ = self.kube.create(EVENTS, created)
            self.correlator.observed(correlated.key, stored)
        except KubeError as exc:
            self.correlator.forget(correlated.key)
            log.warning("could not write event %s %s: %s", event["reason"], event["message"], exc)

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="atomesh-events", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if event is None:
                    return
                self.record(event)
            except Exception:  # a bug here must not stop the Events that follow
                log.exception("recording an event failed")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every queued Event is written (tests, shutdown)."""
        if self._thread is not None:
            self._queue.join()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (up to `timeout` seconds), then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
