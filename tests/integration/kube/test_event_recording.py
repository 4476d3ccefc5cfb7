"""The operator's Event recorder against the API emulator: a repeated Event is one object whose
count grows (a PATCH), not one POST per occurrence; a lost one is created again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.fixtures.kube import RunningKubeAPI

from atomesh.controller.events import COMPONENT, EventRecorder
from atomesh.kube.client import RestKube
from atomesh.kube.resources import EVENTS

pytestmark = pytest.mark.integration
NS = "recorded"


@pytest.fixture
def kube(kube_api: RunningKubeAPI) -> Iterator[RestKube]:
    kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    client = RestKube.from_kubeconfig(str(kube_api.kubeconfig))
    yield client
    client.close()


def run(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "7"},
    }


def test_a_repeated_event_is_one_object_with_a_count(kube: RestKube) -> None:
    recorder = EventRecorder(kube, instance="test")
    writes = kube.writes
    for _ in range(3):
        recorder.post(run("r1"), "Warning", "ReconcileError", "the forge did not answer")
    recorder.post(run("r1"), "Normal", "PodCreated", "created runner pod r1-runner")
    recorder.flush()
    assert kube.writes - writes == 4  # two creates, two patches of the count
    events = {e["reason"]: e for e in kube.list(EVENTS, NS)}
    assert set(events) == {"ReconcileError", "PodCreated"}
    repeated = events["ReconcileError"]
    assert repeated["count"] == 3
    assert repeated["involvedObject"]["name"] == "r1"
    assert repeated["involvedObject"]["kind"] == "AgentRun"
    assert repeated["source"]["component"] == COMPONENT
    assert repeated["reportingComponent"] == COMPONENT
    assert repeated["metadata"]["name"].startswith("r1.")
    recorder.stop()


def test_an_event_deleted_on_the_server_is_created_again(kube: RestKube) -> None:
    recorder = EventRecorder(kube, instance="test")
    recorder.post(run("r2"), "Normal", "PodCreated", "created runner pod r2-runner")
    recorder.flush()
    (first,) = [e for e in kube.list(EVENTS, NS) if e["involvedObject"]["name"] == "r2"]
    kube.delete(EVENTS, NS, first["metadata"]["name"])  # expired by the API server's event TTL
    recorder.post(run("r2"), "Normal", "PodCreated", "created runner pod r2-runner")
    recorder.flush()
    (again,) = [e for e in kube.list(EVENTS, NS) if e["involvedObject"]["name"] == "r2"]
    assert again["count"] == 2
    assert again["metadata"]["name"] == first["metadata"]["name"]
    recorder.stop()
