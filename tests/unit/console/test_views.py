"""The console's page logic: queue filters, fleet sorting, a run's timeline, human formats."""

from __future__ import annotations

from tests.unit.core.supervision_builders import NOW, agent, run, scenario

from atomesh.console.format import age, money, percent
from atomesh.console.views import QueueFilters, filter_queue, review_requests, sort_fleet, timeline
from atomesh.core.supervision import Thresholds
from atomesh.core.supervision_overview import overview


def test_queue_filters_by_namespace_mesh_agent_label_and_type() -> None:
    agents, meshes, runs = scenario()
    queue = overview(agents, meshes, runs, NOW, Thresholds()).review_queue
    names = lambda **query: [item.run for item in filter_queue(queue, QueueFilters.from_query(query))]  # noqa: E731
    assert names() == ["fixer-3", "docs-1"]
    assert names(mesh="release") == ["docs-1"]
    assert names(agent="fixer") == ["fixer-3"]
    assert names(type="doc") == ["docs-1"]
    assert names(namespace="elsewhere") == []
    assert names(label="atomesh.io/mesh") == ["docs-1"]
    assert names(label="atomesh.io/mesh=other") == []


def test_fleet_sorts_by_a_column_with_unknown_values_last_either_way() -> None:
    agents, meshes, runs = scenario()
    rows = overview(agents, meshes, runs, NOW, Thresholds()).fleet
    by = lambda key, descending: [row.agent for row in sort_fleet(rows, key, descending)]  # noqa: E731
    assert by("cost", True) == ["fixer", "docs-writer", "broken"]
    assert by("acceptance", False) == ["fixer", "docs-writer", "broken"]
    assert by("acceptance", True) == ["docs-writer", "fixer", "broken"]
    assert by("no-such-column", False) == ["broken", "docs-writer", "fixer"]


def test_a_runs_timeline_is_in_time_order() -> None:
    merged = run(
        "a", phase="Succeeded", created=100, started=99, published=60, decided=30, completed=30, state="merged"
    )
    assert [label for label, _ in timeline(merged)] == [
        "Created", "Started", "Published for review", "Review merged", "Ended Succeeded",
    ]  # fmt: skip
    assert [label for label, _ in timeline(run("b", created=5))] == ["Created"]
    assert agent("x").spec.suspend is False


def test_formats_read_like_kubectl() -> None:
    assert [age(s) for s in (None, 42, 125, 1800, 3 * 3600 + 20 * 60, 3 * 86400 + 5 * 3600)] == [
        "-", "42s", "2m5s", "30m", "3h20m", "3d5h",
    ]  # fmt: skip
    assert (money(None), money(0), money(1234.5), money(0.0012)) == ("-", "$0.00", "$1,234.50", "$0.0012")
    assert (percent(None), percent(2 / 3)) == ("-", "67%")


def test_queue_filters_by_a_reviewer_the_agent_asks_for() -> None:
    agents, meshes, runs = scenario()
    agents[0] = agent("fixer", review={"reviewers": ["ada"], "teamReviewers": ["demo/docs"]})
    queue = overview(agents, meshes, runs, NOW, Thresholds()).review_queue
    requests = review_requests(agents)
    assert requests[("team-a", "fixer")] == ["ada", "demo/docs"]
    chosen = lambda who: [item.run for item in filter_queue(queue, QueueFilters(reviewer=who), requests)]  # noqa: E731
    assert chosen("ada") == ["fixer-3"]
    assert chosen("demo/docs") == ["fixer-3"]
    assert chosen("bob") == []
