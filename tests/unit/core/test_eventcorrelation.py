"""Event correlation as client-go's recorder does it: counts, aggregation by reason, spam filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.core.eventcorrelation import AGGREGATE_PREFIX, EventCorrelator, rfc3339

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SERIAL = iter(range(10**6))


def event(
    reason: str = "PodCreated", message: str = "created pod r-runner", name: str = "r", at: datetime = T0
) -> dict[str, Any]:
    return {
        "metadata": {"name": f"{name}.{next(SERIAL):x}", "namespace": "ns"},
        "involvedObject": {"kind": "AgentRun", "namespace": "ns", "name": name, "uid": f"uid-{name}"},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "source": {"component": "atomesh-operator"},
        "firstTimestamp": rfc3339(at),
        "lastTimestamp": rfc3339(at),
        "count": 1,
    }


def test_a_repeated_event_patches_the_count_of_the_first() -> None:
    correlator = EventCorrelator()
    first = correlator.correlate(event(), T0)
    assert first.patch is None
    assert not first.skip
    later = T0 + timedelta(seconds=30)
    second = correlator.correlate(event(at=later), later)
    third = correlator.correlate(event(at=later), later)
    assert second.event["metadata"]["name"] == first.event["metadata"]["name"]
    assert second.patch == {"count": 2, "lastTimestamp": rfc3339(later), "message": "created pod r-runner"}
    assert third.patch is not None
    assert third.patch["count"] == 3
    assert third.event["firstTimestamp"] == rfc3339(T0)


def test_other_objects_reasons_and_messages_are_events_of_their_own() -> None:
    correlator = EventCorrelator()
    correlator.correlate(event(), T0)
    assert correlator.correlate(event(name="other"), T0).patch is None
    assert correlator.correlate(event(reason="AwaitingReview"), T0).patch is None
    assert correlator.correlate(event(message="another message"), T0).patch is None


def test_ten_similar_messages_in_ten_minutes_are_combined_into_one_counted_event() -> None:
    correlator = EventCorrelator()
    results = [correlator.correlate(event(message=f"attempt {i}"), T0 + timedelta(seconds=i)) for i in range(12)]
    assert all(r.patch is None and not r.event["message"].startswith(AGGREGATE_PREFIX) for r in results[:9])
    combined = results[9]
    assert combined.event["message"] == AGGREGATE_PREFIX + "attempt 9"
    assert combined.patch is None
    assert [r.patch["count"] if r.patch else None for r in results[10:]] == [2, 3]
    assert {r.event["metadata"]["name"] for r in results[9:]} == {combined.event["metadata"]["name"]}


def test_similar_messages_further_apart_than_the_interval_are_not_combined() -> None:
    correlator = EventCorrelator()
    results = [correlator.correlate(event(message=f"m{i}"), T0 + timedelta(minutes=11 * i)) for i in range(12)]
    assert not any(r.event["message"].startswith(AGGREGATE_PREFIX) for r in results)


def test_an_object_may_burst_25_events_of_a_reason_then_one_per_five_minutes() -> None:
    correlator = EventCorrelator()
    results = [correlator.correlate(event(message=f"m{i}"), T0) for i in range(30)]
    assert [r.skip for r in results] == [False] * 25 + [True] * 5
    assert correlator.correlate(event(name="other"), T0).skip is False  # the bucket is per object
    assert correlator.correlate(event(reason="BudgetExceeded"), T0).skip is False  # and per reason
    assert correlator.correlate(event(message="later"), T0 + timedelta(seconds=299)).skip is True
    assert correlator.correlate(event(message="later"), T0 + timedelta(seconds=601)).skip is False


def test_an_event_the_server_lost_is_created_again_and_renamed_by_what_it_stored() -> None:
    correlator = EventCorrelator()
    first = correlator.correlate(event(), T0)
    correlator.forget(first.key)
    again = correlator.correlate(event(), T0)
    assert again.patch is None
    correlator.observed(again.key, {**again.event, "metadata": {"name": "stored-name"}, "count": 1})
    assert correlator.correlate(event(), T0).event["metadata"]["name"] == "stored-name"


def test_memory_is_bounded_by_the_cache_size() -> None:
    correlator = EventCorrelator(cache_size=8)
    for index in range(100):
        correlator.correlate(event(name=f"o{index}"), T0)
    assert correlator.correlate(event(name="o0"), T0).patch is None  # its first occurrence was forgotten
