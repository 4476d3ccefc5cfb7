"""The events API poller's pure parts: events become deliveries, which events are new, how long to
wait; and the poller itself over a scripted events source (ETags, 304s, pages, cursor)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from atomesh.controller.trigger_polling import EventsPoller
from atomesh.core.triggers import EventDelivery
from atomesh.core.triggers_polling import MAX_PAGES, PER_PAGE, delivery_payload, fresh_events, next_interval
from atomesh.forge.github_requests import Conditional

REPO = "demo/sample-app"
STARTED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def event(number: int, kind: str = "IssuesEvent", created: datetime = STARTED, **payload: Any) -> dict[str, Any]:
    return {
        "id": str(number),
        "type": kind,
        "actor": {"id": 1, "login": "ada"},
        "repo": {"id": 7, "name": REPO, "url": "u"},
        "payload": payload or {"action": "opened", "issue": {"id": number, "number": 1, "updated_at": "t"}},
        "public": True,
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_an_event_becomes_the_delivery_a_webhook_would_be() -> None:
    found = delivery_payload(event(5))
    assert found is not None
    name, delivery_id, payload = found
    assert (name, delivery_id) == ("issues", "event-5")
    assert payload["repository"] == {"id": 7, "full_name": REPO}
    assert payload["sender"] == {"login": "ada", "type": "User"}
    push = delivery_payload(event(6, "PushEvent", ref="refs/heads/main", head="b", before="a"))
    assert push is not None
    assert push[2]["after"] == "b"
    assert EventDelivery(*push).subject_key == "push/refs/heads/main/a/b"
    assert delivery_payload(event(7, "WatchEvent", action="started")) is None


def test_fresh_events_are_those_after_the_cursor_or_recent_on_the_first_poll_oldest_first() -> None:
    old = event(1, created=STARTED - timedelta(hours=2))
    recent = event(2, created=STARTED - timedelta(minutes=1))
    newer = event(3, created=STARTED + timedelta(seconds=5))
    assert [e["id"] for e in fresh_events([newer, recent, old], None, STARTED, 600)] == ["2", "3"]
    assert [e["id"] for e in fresh_events([newer, recent, old], "2", STARTED, 600)] == ["3"]
    assert fresh_events([newer], "3", STARTED, 600) == []


def test_the_interval_is_githubs_but_never_below_the_floor() -> None:
    assert next_interval(5, "60") == 60
    assert next_interval(5, "1") == 5
    assert next_interval(5, None) == 5
    assert next_interval(5, "soon") == 5


class ScriptedEvents:
    """An events source: `pages` per call, newest first; If-None-Match answered with 304."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.calls: list[tuple[str | None, int]] = []

    def repository_events(self, repo: str, etag: str | None, page: int = 1) -> Conditional:
        self.calls.append((etag, page))
        tag = f'W/"{len(self.events)}"'
        if etag == tag:  # a 304 without X-Poll-Interval: the last one still holds
            return Conditional(304, {"etag": tag}, None)
        chunk = self.events[(page - 1) * PER_PAGE : page * PER_PAGE]
        return Conditional(200, {"etag": tag, "x-poll-interval": "60"}, chunk)


def test_the_poller_dispatches_new_events_once_and_sends_the_etag_back() -> None:
    source = ScriptedEvents([event(2, created=STARTED)])
    delivered: list[EventDelivery] = []
    clock = [0.0]
    poller = EventsPoller(
        source, lambda: {REPO}, delivered.append, 5.0, now=lambda: STARTED, clock=lambda: clock[0], replay=60
    )
    poller.poll_due()
    assert [d.id for d in delivered] == ["event-2"]
    poller.poll_due()  # not due for 60 s (GitHub's X-Poll-Interval)
    assert len(source.calls) == 1
    clock[0] = 61.0
    poller.poll_due()
    assert source.calls[-1] == ('W/"1"', 1)
    assert poller.cursors[REPO].last_status == 304
    assert len(delivered) == 1
    clock[0] = 100.0
    poller.poll_due()  # 39 s after the 304: GitHub's 60 s still apply, not the 5 s floor
    assert len(source.calls) == 2

    source.events = [event(n) for n in range(400, 2, -1)]  # 398 new events: more than GitHub keeps
    clock[0] = 200.0
    poller.poll_due()
    assert [page for _, page in source.calls[-MAX_PAGES:]] == [1, 2, 3]  # bounded
    assert len(delivered) == 1 + MAX_PAGES * PER_PAGE
    assert poller.cursors[REPO].cursor == "400"
