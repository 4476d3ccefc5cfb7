"""The workers: a small fixed pool of threads running every controller's reconciles from one work
queue, and the one place where a reconcile's error kind becomes its requeue.

A reconcile is registered under its controller's name and called with a namespace and a name
(`Request`); the queue makes sure one request is reconciled by one worker at a time. Its outcome:

- returned → `forget` (its next failure backs off from the start again);
- `core.requeue.Waiting` → reconciled again after its `after` seconds; not an error;
- `core.requeue.Transient`, `KubeError`, `ForgeError` → counted as a reconcile error and requeued
  with the key's own backoff (the retry policy, growing per failure of that key);
- `core.requeue.Stalled` → counted and logged, not requeued: the object's next change is its next
  reconcile;
- any other exception is a bug: counted and requeued with backoff as well, so one broken object
  never stops the others. It is answered once per object and error: its traceback is logged once
  (its retries log one line), and the controller's `ErrorAnswer` (a `Reconciling=True/ReconcileError`
  condition and one Warning Event, `controller.apply.ErrorAnswers`) is given once; after the next
  success the answer is withdrawn.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from atomesh.controller.metrics import Metrics
from atomesh.controller.workqueue import WorkQueue
from atomesh.core.requeue import DEFAULT_RETRY, Stalled, Transient, Waiting
from atomesh.forge.errors import ForgeError
from atomesh.kube.client import KubeError

log = logging.getLogger(__name__)
WORKERS = 8  # reconciles mostly wait on the API server and the forge; bench/operator.py settles faster with 8 than 4

Reconcile = Callable[[str, str], None]


class ErrorAnswer(Protocol):
    """How a controller answers an unexpected error on the object of a request, and withdraws it."""

    def failed(self, namespace: str, name: str, error: Exception) -> None: ...

    def recovered(self, namespace: str, name: str) -> None: ...


@dataclass(frozen=True, order=True)
class Request:
    """One object for one controller to reconcile: the work queue's key."""

    controller: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.controller} {self.namespace}/{self.name}"


class Workers:
    def __init__(self, metrics: Metrics, queue: WorkQueue[Request] | None = None, count: int = WORKERS) -> None:
        self.metrics = metrics
        self.queue: WorkQueue[Request] = queue if queue is not None else WorkQueue(DEFAULT_RETRY)
        self._count = count
        self._reconcilers: dict[str, Reconcile] = {}
        self._threads: list[threading.Thread] = []
        self._reconciled = itertools.count()  # next() is atomic: a lock-free counter for the benchmark
        self.reconciled = 0  # requests reconciled so far
        self._answers: dict[str, ErrorAnswer] = {}
        # the unexpected error each failing request last logged, (type, message), and whether it was
        # answered on the object: a retry that fails the same way logs one line and posts nothing
        self._failing: dict[Request, tuple[tuple[str, str], bool]] = {}
        self._failing_lock = threading.Lock()
        # Whether this replica serves a namespace (`controller.shards`): requests of namespaces of
        # other replicas' shards are neither queued nor reconciled.
        self.owns: Callable[[str], bool] = lambda namespace: True

    def register(self, controller: str, reconcile: Reconcile) -> None:
        if controller in self._reconcilers:
            raise ValueError(f"controller {controller!r} is registered twice")
        self._reconcilers[controller] = reconcile

    def answer_errors(self, controller: str, answer: ErrorAnswer) -> None:
        """Answer the unexpected errors of `controller`'s reconciles on their objects with `answer`."""
        self._answers[controller] = answer

    def enqueue(self, controller: str, namespace: str, name: str, *, after: float = 0.0, resync: bool = False) -> None:
        """Ask for a reconcile of `namespace/name` by `controller`, now or in `after` seconds;
        `resync` for an object seen in an initial LIST: it waits behind all other work."""
        request = Request(controller, namespace or "default", name)
        if controller not in self._reconcilers:
            raise KeyError(f"no controller {controller!r} is registered")
        if not self.owns(request.namespace):
            return
        if after > 0:
            self.queue.add_after(request, after)
        elif resync:
            self.queue.add_resync(request)
        else:
            self.queue.add(request)

    def start(self) -> None:
        for index in range(self._count - len(self._threads)):
            thread = threading.Thread(target=self._loop, name=f"atomesh-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the queue down, let the workers finish what is queued, and join them."""
        self.queue.shut_down(timeout)
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []

    def _loop(self) -> None:
        while self.process_next():
            pass

    def process_next(self, timeout: float | None = None) -> bool:
        """Take the next request and reconcile it; False when there was none within `timeout`
        (or the queue shut down)."""
        request = self.queue.get(timeout)
        if request is None:
            return False
        try:
            if self.owns(request.namespace):  # its shard may have gone to another replica since
                self.reconcile(request)
        finally:
            self.queue.done(request)
            self.reconciled = next(self._reconciled) + 1
        return True

    def reconcile(self, request: Request) -> None:
        """Run the request's reconcile and requeue it as its outcome says."""
        queue, controller = self.queue, request.controller
        try:
            self._reconcilers[controller](request.namespace, request.name)
        except Waiting as waiting:
            log.info("%s: %s", request, waiting)
            queue.forget(request)
            queue.add_after(request, waiting.after)
        except Stalled as stalled:
            self.metrics.reconcile_error(controller)
            log.warning("%s is stalled: %s", request, stalled)
            queue.forget(request)
        except (Transient, KubeError, ForgeError) as error:
            self.metrics.reconcile_error(controller)
            log.info("%s: %s (retried in %.0f s)", request, error, queue.backoff(request))
            queue.add_rate_limited(request)
        except Exception as error:
            self.metrics.reconcile_error(controller)
            self._unexpected(request, error)
            queue.add_rate_limited(request)
        else:
            queue.forget(request)
            self._recovered(request)

    def _unexpected(self, request: Request, error: Exception) -> None:
        signature = (type(error).__name__, str(error))
        with self._failing_lock:
            logged, answered = self._failing.get(request, (None, False))
            if logged != signature:
                answered = False
        retry_in = self.queue.backoff(request)
        if logged == signature:
            log.warning("%s failed again: %s: %s (retried in %.0f s)", request, *signature, retry_in)
        else:
            log.error("%s failed (retried in %.0f s)", request, retry_in, exc_info=error)
        answer = self._answers.get(request.controller)
        if answer is not None and not answered:
            try:
                answer.failed(request.namespace, request.name, error)
                answered = True
            except Exception as failure:  # best effort: the retry answers again
                log.warning("%s: its error could not be answered on the object: %s", request, failure)
        with self._failing_lock:
            self._failing[request] = (signature, answered)

    def _recovered(self, request: Request) -> None:
        with self._failing_lock:
            if self._failing.pop(request, None) is None:
                return
        answer = self._answers.get(request.controller)
        if answer is None:
            return
        try:
            answer.recovered(request.namespace, request.name)
        except Exception as failure:
            log.warning("%s: its error answer could not be withdrawn: %s", request, failure)


def attempt(metrics: Metrics, controller: str, what: str, step: Callable[[], None]) -> None:
    """One attempt at work that arrives from outside Kubernetes (a webhook delivery), whose sender's
    redelivery is its retry: the error kinds are logged and counted as the workers do, never raised."""
    try:
        step()
    except Waiting as waiting:
        log.info("%s %s: %s", controller, what, waiting)
    except Stalled as stalled:
        metrics.reconcile_error(controller)
        log.warning("%s %s is stalled: %s", controller, what, stalled)
    except (Transient, KubeError, ForgeError) as error:
        metrics.reconcile_error(controller)
        log.info("%s %s: %s (the sender's redelivery retries it)", controller, what, error)
    except Exception:
        metrics.reconcile_error(controller)
        log.exception("%s %s failed", controller, what)
