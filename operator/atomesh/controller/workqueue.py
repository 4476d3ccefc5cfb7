"""The work queue every controller's reconciles go through, with client-go's semantics
(k8s.io/client-go/util/workqueue: queue.go, delaying_queue.go, rate_limiting_queue.go).

- A key is handed to at most one worker at a time: `get` marks it processing until `done`.
- Adding a key already queued does nothing (bursts coalesce into one reconcile).
- Adding a key being processed marks it dirty: `done` queues it again, so it is reconciled once
  more, after the change that came in during the reconcile.
- `add_after(key, delay)` queues the key once `delay` seconds have passed; a key already waiting
  keeps the earlier of its two times (follow-ups such as rollups coalesce over their delay).
- `add_rate_limited(key)` is `add_after` with the key's own backoff from the retry policy, growing
  with each failure of the key until `forget(key)` (called after a successful reconcile).
- `add_resync(key)` queues a key seen again in an initial LIST (a restart, a re-list) behind every
  other key: such keys are handed out only while nothing else is queued, so new work never waits
  behind a resync of thousands of objects. A resync key added normally meanwhile moves to the front
  queue. (client-go's informers resync in the same queue; this is the priority its users add.)
  `hold_resync` keeps them all back until `release_resync` (the start-up, while it lists).
- `shut_down()`: adds are ignored from then on; keys queued, and keys waiting on a delay
  (follow-ups, waits), are handed out at once so nothing planned is lost; backoffs are dropped (a
  restart reconciles every object anyway). `get` answers None once nothing is left.

Delays are kept in a heap read by `get` itself (no timer thread), against an injectable monotonic
clock, so tests step time instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from atomesh.core.requeue import DEFAULT_RETRY, RetryPolicy

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    def __init__(self, policy: RetryPolicy = DEFAULT_RETRY, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        # Workers wait on `_cond`, woken one per key added (client-go's Signal: waking them all per key
        # makes every worker contend for the lock); `shut_down` waits on `_finished`, told of every done.
        lock = threading.Lock()
        self._cond = threading.Condition(lock)
        self._finished = threading.Condition(lock)
        self._queue: deque[K] = deque()
        self._resync: deque[K] = deque()  # behind `_queue`; stale entries are skipped
        self._resyncing: set[K] = set()  # the keys queued in `_resync` only
        self._dirty: set[K] = set()  # queued, or to be queued again once done
        self._processing: set[K] = set()
        self._waiting: list[tuple[float, int, K]] = []  # (ready at, sequence, key): a heap
        self._ready_at: dict[K, float] = {}  # the live entry of each waiting key
        self._drained: set[K] = set()  # waiting keys that only a rate limit delays (dropped on shut down)
        self._failures: dict[K, int] = {}
        self._sequence = itertools.count()
        self._shutting_down = False
        self._resync_held = False

    def add(self, key: K) -> None:
        with self._cond:
            self._add(key)

    def _add(self, key: K) -> None:
        if not self._shutting_down:
            self._enqueue(key)

    def _enqueue(self, key: K) -> None:
        if key in self._dirty:
            if key in self._resyncing:  # promoted: new work about a key that only resync had queued
                self._resyncing.discard(key)
                self._queue.append(key)
                self._cond.notify()
            return
        self._dirty.add(key)
        if key in self._processing:
            return  # queued again by done()
        self._queue.append(key)
        self._cond.notify()

    def add_resync(self, key: K) -> None:
        """Queue the key behind every key added otherwise."""
        with self._cond:
            if self._shutting_down or key in self._dirty:
                return
            self._dirty.add(key)
            if key in self._processing:
                return  # queued again by done()
            self._resync.append(key)
            self._resyncing.add(key)
            self._cond.notify()

    def hold_resync(self) -> None:
        """Hand out no resync key until `release_resync`: the start-up holds them while the initial
        lists are still read (a resync reconcile then would read around the cache), new work flows."""
        with self._cond:
            self._resync_held = True

    def release_resync(self) -> None:
        with self._cond:
            self._resync_held = False
            self._cond.notify_all()

    def add_after(self, key: K, delay: float) -> None:
        with self._cond:
            self._add_after(key, delay, rate_limited=False)

    def _add_after(self, key: K, delay: float, *, rate_limited: bool) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self._add(key)
            return
        ready_at = self._clock() + delay
        known = self._ready_at.get(key)
        if known is not None and known <= ready_at:
            return
        self._ready_at[key] = ready_at
        if rate_limited:
            self._drained.add(key)
        else:
            self._drained.discard(key)
        heapq.heappush(self._waiting, (ready_at, next(self._sequence), key))
        self._cond.notify()  # a waiting worker times its wait by the earliest key

    def add_rate_limited(self, key: K) -> None:
        """Queue the key after its backoff, which grows with every call until `forget(key)`."""
        with self._cond:
            attempt = self._failures.get(key, 0)
            self._failures[key] = attempt + 1
            self._add_after(key, self._policy.delay(attempt), rate_limited=True)

    def forget(self, key: K) -> None:
        """The key succeeded: its next failure backs off from the start again."""
        with self._cond:
            self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        with self._cond:
            return self._failures.get(key, 0)

    def backoff(self, key: K) -> float:
        """The delay `add_rate_limited(key)` would wait now."""
        with self._cond:
            return self._policy.delay(self._failures.get(key, 0))

    def get(self, timeout: float | None = None) -> K | None:
        """The next key to reconcile (marked processing: call `done` after), or None after `timeout`
        seconds (0: do not wait) or once the queue is shut down and empty."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            while True:
                self._release_due()
                if self._queue:
                    key = self._queue.popleft()
                    self._processing.add(key)
                    self._dirty.discard(key)
                    return key
                while self._resync and not (self._resync_held and not self._shutting_down):
                    key = self._resync.popleft()
                    if key in self._resyncing:
                        self._resyncing.discard(key)
                        self._processing.add(key)
                        self._dirty.discard(key)
                        return key
                if self._shutting_down:
                    return None
                wait = self._waiting[0][0] - self._clock() if self._waiting else None
                if deadline is not None:
                    left = deadline - self._clock()
                    if left <= 0:
                        return None
                    wait = left if wait is None else min(wait, left)
                self._cond.wait(wait)

    def _release_due(self) -> None:
        now = self._clock()
        while self._waiting and (self._waiting[0][0] <= now or self._shutting_down):
            ready_at, _, key = heapq.heappop(self._waiting)
            if self._ready_at.get(key) != ready_at:
                continue  # superseded by an earlier time
            del self._ready_at[key]
            rate_limited = key in self._drained
            self._drained.discard(key)
            if not (self._shutting_down and rate_limited):
                self._enqueue(key)

    def done(self, key: K) -> None:
        """The worker is finished with the key; if it was added meanwhile, it is queued again."""
        with self._cond:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._cond.notify()
            self._finished.notify_all()

    def shut_down(self, timeout: float | None = None) -> bool:
        """Stop accepting keys; hand out what is queued or waiting on a delay. With `timeout`, also
        wait until every key handed out is done; False if that took longer."""
        with self._cond:
            self._shutting_down = True
            self._cond.notify_all()
            if timeout is None:
                return True
            return self._finished.wait_for(lambda: not (self._processing or self._queue or self._resyncing), timeout)

    @property
    def shutting_down(self) -> bool:
        with self._cond:
            return self._shutting_down

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing processing (keys waiting on a delay aside)."""
        with self._cond:
            return not (self._queue or self._resyncing or self._processing)

    def __len__(self) -> int:
        """Keys queued now (not those waiting on a delay, nor those processing)."""
        with self._cond:
            return len(self._queue) + len(self._resyncing)
