"""The run feed's fan-out to subscribers."""

from __future__ import annotations

from atomesh.controller.runfeed import RunEvents
from atomesh.kube.client import Body


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
