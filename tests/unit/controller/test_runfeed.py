"""The run feed's pure parts: what a cached run keeps, and the fan-out to subscribers."""

from __future__ import annotations

import json

from atomesh.controller.runfeed import RunEvents
from atomesh.kube.cache import compact
from atomesh.kube.client import Body


def test_a_cached_run_drops_managed_fields_and_keeps_everything_else() -> None:
    body: Body = {
        "metadata": {"name": "r", "labels": {"a": "b"}, "managedFields": [{"manager": "kubectl"}]},
        "spec": {"agentRef": {"name": "a"}, "feedback": ["fix it"]},
        "status": {"phase": "Running"},
    }
    expected = {
        "metadata": {"name": "r", "labels": {"a": "b"}},
        "spec": {"agentRef": {"name": "a"}, "feedback": ["fix it"]},
        "status": {"phase": "Running"},
    }
    assert compact(body) == expected


def test_two_decoded_runs_share_their_repeated_strings() -> None:
    first = compact(json.loads('{"metadata": {"namespace": "team-a"}, "status": {"phase": "Succeeded"}}'))
    second = compact(json.loads('{"metadata": {"namespace": "team-a"}, "status": {"phase": "Succeeded"}}'))
    assert first["metadata"]["namespace"] is second["metadata"]["namespace"]
    assert first["status"]["phase"] is second["status"]["phase"]


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
