"""The supervisor's overview: review queue, attention list and fleet table of one moment, and its wire form.

Pure. The wire form (`overview_document`) is what `atomesh status -o json|yaml` prints and what the console
serves: camelCase keys as in the Kubernetes objects, times in RFC 3339 (UTC), durations in seconds, money
in US dollars; a value that cannot be known (no decided pull request yet) is null, never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

from atomesh.api.agent import Agent
from atomesh.api.agentrun import AgentRun
from atomesh.api.mesh import Mesh
from atomesh.core.supervision import AttentionItem, ReviewItem, Thresholds, attention, review_queue
from atomesh.core.supervision_facts import RunFacts, as_facts
from atomesh.core.supervision_fleet import FleetRow, fleet

OVERVIEW_KIND = "SupervisionOverview"


@dataclass(frozen=True)
class Overview:
    """What needs a person now, what is broken, and what the fleet costs, as of `now`."""

    now: datetime
    review_queue: list[ReviewItem]
    attention: list[AttentionItem]
    fleet: list[FleetRow]
    thresholds: Thresholds


def overview(
    agents: Sequence[Agent],
    meshes: Sequence[Mesh],
    runs: Sequence[AgentRun | RunFacts],
    now: datetime,
    thresholds: Thresholds | None = None,
) -> Overview:
    limits = thresholds or Thresholds()
    runs = [as_facts(run) for run in runs]
    return Overview(
        now=now,
        review_queue=review_queue(runs, now),
        attention=attention(agents, meshes, runs, now, limits),
        fleet=fleet(agents, runs, now, limits.fleet_window),
        thresholds=limits,
    )


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join("USD" if part == "usd" else part.capitalize() for part in rest)


def _record(item: ReviewItem | AttentionItem | FleetRow) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for spec in fields(item):
        value = getattr(item, spec.name)
        if isinstance(value, datetime):
            value = rfc3339(value)
        elif isinstance(value, float):
            value = round(value, 6)
        elif spec.name == "labels":
            value = dict(sorted(value.items()))
        record[_camel(spec.name)] = value
    return record


def overview_document(view: Overview) -> dict[str, Any]:
    """The overview as plain JSON types (stable key order, for scripts and golden files)."""
    limits = asdict(view.thresholds)
    return {
        "kind": OVERVIEW_KIND,
        "time": rfc3339(view.now),
        "thresholds": {
            _camel(key) + ("Seconds" if key != "stuck_factor" else ""): (
                value if key == "stuck_factor" else value.total_seconds()
            )
            for key, value in limits.items()
        },
        "reviewQueue": [_record(item) for item in view.review_queue],
        "attention": [_record(item) for item in view.attention],
        "fleet": [_record(row) for row in view.fleet],
    }
