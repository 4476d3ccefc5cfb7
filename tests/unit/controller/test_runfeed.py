"""The run feed's fan-out to subscribers, and how a scope's LIST and its watch meet in the cache."""

from __future__ import annotations

from collections.abc import Iterator

from atomesh.controller.runfeed import RunEvents, _Scope
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Body
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS


def test_one_failing_subscriber_does_not_starve_the_others() -> None:
    events = RunEvents()
    heard: list[tuple[str | None, str]] = []

    def broken(type: str | None, body: Body) -> None:
        raise RuntimeError("a bug")

    events.subscribe(broken)
    events.subscribe(lambda type, body: heard.append((type, body["metadata"]["name"])))
    events.dispatch("ADDED", {"metadata": {"name": "r", "namespace": "default"}})
    events.dispatch(None, {"metadata": {"name": "s", "namespace": "default"}})
    assert heard == [("ADDED", "r"), (None, "s")]


def run(name: str, version: str, phase: str) -> Body:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": version}, "status": {"phase": phase}}


def test_what_the_watch_reports_during_a_list_wins_over_the_lists_older_copy() -> None:
    cache = CachedKube(FakeKube(), (AGENT_RUNS,), packed=(AGENT_RUNS,))
    cache.observe(AGENT_RUNS, run("gone", "1", "Succeeded"))  # cached before; deleted while no watch ran
    events = RunEvents()
    heard: list[tuple[str | None, str, str]] = []
    events.subscribe(lambda type, body: heard.append((type, body["metadata"]["name"], body["status"]["phase"])))
    scope = _Scope(cache, events, "ns")

    def pages() -> Iterator[Body]:
        yield run("a", "10", "Running")
        scope.changed("MODIFIED", run("b", "12", "AwaitingReview"))  # the watch, while the list is read
        scope.changed("ADDED", run("c", "13", "Pending"))
        yield run("b", "10", "Running")  # the list's copy, as of its version: older

    scope.listed(pages(), "10")
    assert heard == [
        (None, "a", "Running"),
        ("MODIFIED", "b", "AwaitingReview"),
        ("ADDED", "c", "Pending"),
        ("DELETED", "gone", "Succeeded"),
    ]
    assert [cache.get(AGENT_RUNS, "ns", name)["status"]["phase"] for name in ("a", "b", "c")] == [  # type: ignore[index]
        "Running",
        "AwaitingReview",
        "Pending",
    ]
    assert cache.get(AGENT_RUNS, "ns", "gone") is None
