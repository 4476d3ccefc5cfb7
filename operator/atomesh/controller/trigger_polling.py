"""The polling fallback of event triggers, for clusters GitHub's webhooks cannot reach: one thread
polls the repository events API of every repository an Agent's GitHub trigger watches and hands new
events to the same dispatch as webhook deliveries (`Triggers.dispatch`), so routing, authorisation and
exactly-once run names are the same (`core.triggers_polling` says what the events API can serve).

Bounded: per repository one conditional request per interval (`If-None-Match` with the last ETag: a 304
costs no rate limit), the interval is GitHub's `X-Poll-Interval` and never below the operator's
`trigger_poll_interval_seconds`, and at most `MAX_PAGES` pages when catching up. A forge error is
logged and the repository is tried again at its next interval; it never stops the thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from atomesh.core.triggers import EventDelivery, workspace_repository
from atomesh.core.triggers_polling import (
    MAX_PAGES,
    PER_PAGE,
    UNPOLLABLE,
    delivery_payload,
    fresh_events,
    newest_id,
    next_interval,
    reached,
)
from atomesh.forge.errors import ForgeError
from atomesh.forge.github_requests import Conditional

log = logging.getLogger(__name__)
# On start, events this recent are delivered (their run names deduplicate what webhooks or an earlier
# operator already started); older history is not replayed.
REPLAY_SECONDS = 600.0
IDLE_WAIT = 1.0  # seconds between looks for due repositories


class EventsForge(Protocol):
    def repository_events(self, repo: str, etag: str | None, page: int = 1) -> Conditional: ...


@dataclass
class RepositoryCursor:
    """What the poller knows of one repository: the ETag of its first page, the newest event id seen,
    when to poll next (monotonic seconds), and the last answer's status (for metrics and tests)."""

    etag: str | None = None
    cursor: str | None = None
    poll_interval: str | None = None  # GitHub's last X-Poll-Interval, kept for answers without one
    due: float = 0.0
    last_status: int = 0
    polls: int = 0


class EventsPoller:
    def __init__(
        self,
        forge: EventsForge,
        repositories: Callable[[], set[str]],
        dispatch: Callable[[EventDelivery], None],
        floor: float,
        *,
        now: Callable[[], datetime],
        clock: Callable[[], float] = time.monotonic,
        replay: float = REPLAY_SECONDS,
    ) -> None:
        self._forge = forge
        self._repositories = repositories
        self._dispatch = dispatch
        self._floor = floor
        self._clock = clock
        self._replay = replay
        self._started = now()
        self.cursors: dict[str, RepositoryCursor] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self, repo: str) -> None:
        """One poll of `repo`: a conditional first page, older pages until the cursor, then dispatch."""
        state = self.cursors.setdefault(repo, RepositoryCursor())
        first = self._forge.repository_events(repo, state.etag)
        state.polls += 1
        state.last_status = first.status
        state.poll_interval = first.headers.get("x-poll-interval") or state.poll_interval
        state.due = self._clock() + next_interval(self._floor, state.poll_interval)
        if first.status == 304:
            return
        events: list[Mapping[str, Any]] = list(first.data or [])
        page = 1
        while not reached(events, state.cursor) and page < MAX_PAGES and len(events) == page * PER_PAGE:
            page += 1
            events += list(self._forge.repository_events(repo, None, page).data or [])
        for event in fresh_events(events, state.cursor, self._started, self._replay):
            found = delivery_payload(event)
            if found is not None:
                self._dispatch(EventDelivery(*found))
        state.cursor = newest_id(events, state.cursor)
        state.etag = first.etag

    def poll_due(self) -> None:
        now = self._clock()
        for repo in sorted(self._repositories()):
            state = self.cursors.get(repo)
            if state is not None and state.due > now:
                continue
            try:
                self.poll(repo)
            except ForgeError as error:
                log.warning("polling the events of %s failed: %s", repo, error.message)
                self.cursors.setdefault(repo, RepositoryCursor()).due = now + self._floor

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_due()
            self._stop.wait(IDLE_WAIT)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="atomesh-trigger-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def polled_repositories(agents: list[tuple[str, Any]]) -> set[str]:
    """owner/name of every repository a GitHub trigger that polling can serve watches (lower-case)."""
    found: set[str] = set()
    for _, agent in agents:
        if agent.spec.suspend:
            continue
        for trigger in agent.spec.triggers.events:
            github = trigger.github
            if github is not None and github.event not in UNPOLLABLE:
                found.add((github.repository or workspace_repository(agent.spec.workspace.repo)).lower())
    return found
