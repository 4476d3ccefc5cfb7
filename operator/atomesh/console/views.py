"""What each console page shows, from the cache's snapshot: the queue's filters, the fleet's sort order,
a run's timeline. No I/O; the server renders these with the templates."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atomesh.api import Agent, AgentRun
from atomesh.core.supervision import ReviewItem, Thresholds
from atomesh.core.supervision_fleet import FleetRow
from atomesh.core.supervision_overview import Overview, overview

# Pages compute ages at render time; what moves with the clock alone (a run becoming stuck, a failure
# leaving the window) is recomputed this often even without a change.
OVERVIEW_MAX_AGE = 30.0
# Under a stream of changes the overview is recomputed at most this often: each pass over every run
# holds the interpreter, and pages must stay quick meanwhile.
OVERVIEW_MIN_INTERVAL = 0.5


@dataclass(frozen=True)
class QueueFilters:
    """The review queue's filters, as query parameters: namespace, mesh, agent, label (key=value), type, and
    reviewer (a user or team the run's Agent asks for review)."""

    namespace: str = ""
    mesh: str = ""
    agent: str = ""
    label: str = ""
    type: str = ""
    reviewer: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> QueueFilters:
        names = ("namespace", "mesh", "agent", "label", "type", "reviewer")
        return cls(**{name: query.get(name, "").strip() for name in names})

    def matches(self, item: ReviewItem, reviewers: Mapping[tuple[str, str], Sequence[str]]) -> bool:
        if self.reviewer and self.reviewer not in reviewers.get((item.namespace, item.agent), ()):
            return False
        if self.namespace and item.namespace != self.namespace:
            return False
        if self.mesh and item.mesh != self.mesh:
            return False
        if self.agent and item.agent != self.agent:
            return False
        if self.type and item.artifact_type != self.type:
            return False
        if self.label:
            key, _, value = self.label.partition("=")
            if key not in item.labels or (value and item.labels[key] != value):
                return False
        return True


def filter_queue(
    items: Sequence[ReviewItem],
    filters: QueueFilters,
    reviewers: Mapping[tuple[str, str], Sequence[str]] | None = None,
) -> list[ReviewItem]:
    """The items that pass every filter; `reviewers` are each Agent's (namespace, name) review requests."""
    return [item for item in items if filters.matches(item, reviewers or {})]


def review_requests(agents: Iterable[Agent]) -> dict[tuple[str, str], list[str]]:
    """Who each Agent asks to review its pull requests: users, and teams as org/team."""
    return {
        (agent.metadata.namespace or "", agent.metadata.name): [
            *agent.spec.review.reviewers,
            *agent.spec.review.team_reviewers,
        ]
        for agent in agents
    }


def _none_last(value: float | None, descending: bool) -> tuple[bool, float]:
    missing = value is None
    return (missing if not descending else not missing, value or 0.0)


# Fleet columns a person may sort by, and the value each sorts on.
FLEET_SORT: dict[str, Callable[[FleetRow], Any]] = {
    "agent": lambda row: (row.namespace, row.agent),
    "runs": lambda row: row.runs,
    "acceptance": lambda row: row.acceptance_rate,
    "review": lambda row: row.median_review_seconds,
    "cost": lambda row: row.cost_usd,
    "costPerAccepted": lambda row: row.cost_per_accepted_usd,
    "revisions": lambda row: row.revisions_per_accepted,
    "failure": lambda row: row.last_failure_reason or "",
}


def sort_fleet(rows: Sequence[FleetRow], key: str, descending: bool) -> list[FleetRow]:
    """Rows by `key` (unknown keys sort by agent); rows without a value (None) always come last."""
    value = FLEET_SORT.get(key, FLEET_SORT["agent"])
    if key in ("acceptance", "review", "costPerAccepted", "revisions"):
        known = [row for row in rows if value(row) is not None]
        unknown = [row for row in rows if value(row) is None]
        return sorted(known, key=value, reverse=descending) + unknown
    return sorted(rows, key=value, reverse=descending)


def timeline(run: AgentRun) -> list[tuple[str, str]]:
    """The moments of a run's life that its status records, in order."""
    status = run.status
    review = status.review if status else None
    moments = [
        ("Created", run.metadata.creation_timestamp),
        ("Started", status.start_time if status else None),
        ("Published for review", review.published_at if review else None),
        (f"Review {review.state}" if review and review.state else "Decided", review.decided_at if review else None),
        (f"Ended {status.phase}" if status else "Ended", status.completion_time if status else None),
    ]
    return sorted(((label, moment) for label, moment in moments if moment), key=lambda pair: pair[1])


@dataclass
class OverviewMemo:
    """The overview of the cache's latest generation. The server recomputes it in the background when the
    cache changed or its ages went stale, so a page view costs a lookup, never a pass over every run."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    generation: int = -1
    current: Overview | None = None
    _at: float = 0.0

    def stale(self) -> bool:
        return self.current is None or time.monotonic() - self._at > OVERVIEW_MAX_AGE

    def due(self) -> bool:
        """Whether a recompute for a change may run now."""
        return time.monotonic() - self._at >= OVERVIEW_MIN_INTERVAL

    def refresh(self, snapshot: Callable[[], tuple[Any, Any, Any, int]]) -> Overview:
        agents, meshes, runs, generation = snapshot()
        view = overview(agents, meshes, runs, datetime.now(UTC), self.thresholds)
        self.current, self.generation, self._at = view, generation, time.monotonic()
        return view
