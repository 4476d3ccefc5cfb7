"""Event correlation as client-go's event recorder does it (tools/record/events_cache.go), so a
repeated Event is one object with a count, never one POST per occurrence.

`EventCorrelator.correlate` takes a new core/v1 Event and the time, and says what to write:

- the spam filter first: a token bucket per (source, involved object, type, reason) — a burst of 25
  Events, then one every 5 minutes; an Event beyond it is skipped (nothing written). client-go keys
  the bucket by the object alone; here a flood of one reason (a mesh starting many executions) never
  silences another (its BudgetExceeded warning);
- aggregation by reason: Events that differ only in their message, seen 10 times within 10 minutes
  about one object with one type and reason, become one Event "(combined from similar events): …";
- deduplication: an Event seen before (same source, object, type, reason and message — or the
  aggregate of its group) is written as a patch of `count`, `lastTimestamp` and `message` on the
  first occurrence's object, which keeps its name and `firstTimestamp`.

Invariants: no I/O and no clock of its own (the caller passes `now`); memory is bounded by LRU
caches of `cache_size` keys; `observed` records what the API server answered (a re-created Event's
new name), and `forget` drops an Event the server no longer has, so its next occurrence is created.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

CACHE_SIZE = 4096
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
AGGREGATE_PREFIX = "(combined from similar events): "

K = TypeVar("K")
V = TypeVar("V")
Event = dict[str, Any]


class LRU(Generic[K, V]):
    """A bounded map that forgets its least recently used key first."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size

    def get(self, key: K) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


def rfc3339(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def _object_key(event: Event) -> tuple[str, ...]:
    source, obj = event.get("source") or {}, event.get("involvedObject") or {}
    return (
        source.get("component", ""),
        source.get("host", ""),
        obj.get("kind", ""),
        obj.get("namespace", ""),
        obj.get("name", ""),
        obj.get("uid", ""),
        obj.get("apiVersion", ""),
    )


def event_key(event: Event) -> tuple[str, ...]:
    """client-go's getEventKey: the object, field path, type, reason and message."""
    field_path = (event.get("involvedObject") or {}).get("fieldPath", "")
    return (*_object_key(event), field_path, event.get("type", ""), event.get("reason", ""), event.get("message", ""))


def aggregate_key(event: Event) -> tuple[str, ...]:
    """client-go's EventAggregatorByReasonFunc: what the Events of one group share (all but the message)."""
    return (
        *_object_key(event),
        event.get("type", ""),
        event.get("reason", ""),
        event.get("reportingComponent", ""),
        event.get("reportingInstance", ""),
    )


@dataclass
class TokenBucket:
    tokens: float
    at: datetime

    def take(self, now: datetime, burst: int, qps: float) -> bool:
        self.tokens = min(float(burst), self.tokens + max(0.0, (now - self.at).total_seconds()) * qps)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class AggregateRecord:
    messages: set[str] = field(default_factory=set)
    last: datetime | None = None


@dataclass(frozen=True)
class Observation:
    """The first occurrence of an Event as the server stores it: its name, first time and count."""

    name: str
    first_timestamp: str
    count: int


@dataclass(frozen=True)
class Correlated:
    """What to write: `event` (POST when `patch` is None, else PATCH `patch` onto `event`'s name);
    `skip` when nothing is written; `key` identifies the series for `observed` and `forget`."""

    event: Event
    patch: dict[str, Any] | None = None
    skip: bool = False
    key: tuple[str, ...] = ()


class EventCorrelator:
    def __init__(
        self,
        cache_size: int = CACHE_SIZE,
        *,
        burst: int = SPAM_BURST,
        qps: float = SPAM_QPS,
        max_events: int = AGGREGATE_MAX_EVENTS,
        interval: float = AGGREGATE_INTERVAL_SECONDS,
    ) -> None:
        self._spam: LRU[tuple[str, ...], TokenBucket] = LRU(cache_size)
        self._aggregates: LRU[tuple[str, ...], AggregateRecord] = LRU(cache_size)
        self._observations: LRU[tuple[str, ...], Observation] = LRU(cache_size)
        self._burst, self._qps = burst, qps
        self._max_events, self._interval = max_events, interval

    def correlate(self, event: Event, now: datetime) -> Correlated:
        spam_key = (*_object_key(event), event.get("type", ""), event.get("reason", ""))
        bucket = self._spam.get(spam_key)
        if bucket is None:
            bucket = TokenBucket(float(self._burst), now)
        allowed = bucket.take(now, self._burst, self._qps)
        self._spam.put(spam_key, bucket)
        if not allowed:
            return Correlated(event, skip=True)
        event, key = self._aggregate(event, now)
        return self._observe(event, key)

    def _aggregate(self, event: Event, now: datetime) -> tuple[Event, tuple[str, ...]]:
        group = aggregate_key(event)
        record = self._aggregates.get(group)
        if record is None or record.last is None or (now - record.last).total_seconds() > self._interval:
            record = AggregateRecord()
        record.messages.add(event.get("message", ""))
        record.last = now
        self._aggregates.put(group, record)
        if len(record.messages) < self._max_events:
            return event, event_key(event)
        record.messages.pop()  # the set never grows beyond the threshold
        combined = copy.deepcopy(event)
        combined["message"] = AGGREGATE_PREFIX + event.get("message", "")
        return combined, group

    def _observe(self, event: Event, key: tuple[str, ...]) -> Correlated:
        last = self._observations.get(key)
        if last is None:
            self._observations.put(key, Observation(event["metadata"]["name"], event["firstTimestamp"], 1))
            return Correlated(event, key=key)
        count = last.count + 1
        repeated = copy.deepcopy(event)
        repeated["metadata"] = {**event["metadata"], "name": last.name}
        repeated.update(firstTimestamp=last.first_timestamp, count=count)
        self._observations.put(key, Observation(last.name, last.first_timestamp, count))
        patch = {"count": count, "lastTimestamp": event["lastTimestamp"], "message": event.get("message", "")}
        return Correlated(repeated, patch=patch, key=key)

    def observed(self, key: tuple[str, ...], stored: Event) -> None:
        """The server stored `stored` for the series `key` (created or patched)."""
        meta = stored.get("metadata") or {}
        first = stored.get("firstTimestamp") or stored.get("lastTimestamp") or ""
        self._observations.put(key, Observation(meta.get("name", ""), first, int(stored.get("count") or 1)))

    def forget(self, key: tuple[str, ...]) -> None:
        """The series' Event is gone from the server (expired by its TTL): its next occurrence is new."""
        self._observations.pop(key)
