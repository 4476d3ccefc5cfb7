"""Schedules: due times, deterministic names, concurrency policies, suspend and history pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atomesh.api.agent import Triggers
from atomesh.core.schedule import (
    RunInfo,
    last_due,
    next_time,
    plan_schedule,
    prune_history,
    scheduled_run_name,
)

T0 = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
CREATED = T0 - timedelta(hours=1)


def plan(schedule: str = "*/5 * * * *", policy: str = "Forbid", **kw: object):  # type: ignore[no-untyped-def]
    triggers = Triggers.model_validate({"schedule": schedule, "concurrencyPolicy": policy, **kw.pop("triggers", {})})  # type: ignore[dict-item]
    args = {"agent": "tidy", "triggers": triggers, "suspend": False, "last_schedule_time": None, "created": CREATED}
    args |= {"now": T0, "runs": []}
    args |= kw
    return plan_schedule(**args)  # type: ignore[arg-type]


def test_due_run_gets_a_deterministic_name() -> None:
    result = plan()
    due = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert result.create == f"tidy-{int(due.timestamp()) // 60}"
    assert result.scheduled_at == due
    assert result.last_schedule_time == due
    assert result.next_schedule_time == datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    assert plan().create == result.create  # same inputs, same name: a restart cannot duplicate


def test_nothing_due_after_last_schedule() -> None:
    result = plan(last_schedule_time=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    assert result.create is None
    assert result.skipped is None


def test_created_after_due_time_waits_for_the_next() -> None:
    assert plan(created=T0 - timedelta(seconds=10)).create is None


def test_missed_beyond_deadline_is_skipped() -> None:
    result = plan(schedule="0 * * * *", now=T0 + timedelta(minutes=30))
    assert result.create is None
    assert result.skipped is not None
    assert "missed" in result.skipped


@pytest.mark.parametrize(
    ("policy", "creates", "cancels"),
    [("Allow", True, ()), ("Forbid", False, ()), ("Replace", True, ("tidy-old",))],
)
def test_concurrency_policy(policy: str, creates: bool, cancels: tuple[str, ...]) -> None:
    runs = [RunInfo("tidy-old", "Running"), RunInfo("tidy-done", "Succeeded"), RunInfo("tidy-review", "AwaitingReview")]
    result = plan(policy=policy, runs=runs)
    assert (result.create is not None) is creates
    assert result.cancel == cancels
    assert result.last_schedule_time is not None  # a skipped time is not made up later


def test_suspend_creates_nothing() -> None:
    result = plan(suspend=True)
    assert (result.create, result.next_schedule_time) == (None, None)


def test_timezone_is_honoured() -> None:
    # 09:00 in Berlin (CET, UTC+1 in March before DST) is 08:00 UTC.
    after = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert next_time("0 9 * * *", "Europe/Berlin", after) == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert last_due("0 9 * * *", "Europe/Berlin", after) == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_last_due_includes_now() -> None:
    exact = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    assert last_due("*/5 * * * *", "UTC", exact) == exact


def test_long_agent_names_stay_bounded() -> None:
    name = scheduled_run_name("a" * 120, T0)
    assert len(name) <= 56
    assert name == scheduled_run_name("a" * 120, T0)
    assert name != scheduled_run_name("a" * 119 + "b", T0)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(0, ["f1", "f2", "f3"]), (1, ["f1", "f2"]), (2, ["f1"]), (3, []), (10, [])],
)
def test_prune_history_keeps_the_newest_finished(limit: int, expected: list[str]) -> None:
    runs = [
        RunInfo("f1", "Succeeded", created="2026-01-01T00:00:00Z", completed="2026-01-01T00:10:00Z"),
        RunInfo("f2", "Failed", created="2026-01-01T00:01:00Z", completed="2026-01-01T00:11:00Z"),
        RunInfo("f3", "Cancelled", created="2026-01-01T00:02:00Z", completed="2026-01-01T00:12:00Z"),
        RunInfo("active", "Running", created="2025-01-01T00:00:00Z"),
        RunInfo("review", "AwaitingReview", created="2025-01-01T00:00:00Z"),
    ]
    assert prune_history(runs, limit) == expected


@pytest.mark.parametrize(
    ("schedule", "timezone"), [("61 25 32 13 8", "UTC"), ("* * * * * *", "UTC"), ("0 6 * * *", "../../etc/passwd")]
)
def test_an_invalid_schedule_or_time_zone_plans_nothing_and_raises_nothing(schedule: str, timezone: str) -> None:
    result = plan(schedule, triggers={"timezone": timezone})
    assert (result.create, result.next_schedule_time, result.skipped) == (None, None, None)
