"""Time fields stored as kube-apiserver stores metav1.Time and metav1.MicroTime."""

from __future__ import annotations

from typing import Any

import pytest

from atomesh.devstack.kube import timestamps
from atomesh.devstack.kube.errors import ApiError


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2026-11-24T08:00:00Z", "2026-11-24T08:00:00Z"),
        ("2026-11-24T08:00:00.999999+00:00", "2026-11-24T08:00:00Z"),  # second precision, truncated
        ("2026-11-24T09:30:00+01:30", "2026-11-24T08:00:00Z"),
        ("2026-11-24T00:00:00-02:00", "2026-11-24T02:00:00Z"),
        (None, None),
    ],
)
def test_time(value: Any, stored: Any) -> None:
    event = {"kind": "Event", "apiVersion": "v1", "lastTimestamp": value}
    timestamps.normalise(("", "events"), event)
    assert event["lastTimestamp"] == stored


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2026-11-24T08:00:00.123456Z", "2026-11-24T08:00:00.123456Z"),
        ("2026-11-24T09:00:00.000001+01:00", "2026-11-24T08:00:00.000001Z"),
    ],
)
def test_micro_time(value: str, stored: str) -> None:
    lease = {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "spec": {"renewTime": value}}
    timestamps.normalise(("coordination.k8s.io", "leases"), lease)
    assert lease["spec"]["renewTime"] == stored


@pytest.mark.parametrize("value", ["2026-11-24T08:00:00Z", "2026-11-24T08:00:00.123Z", "soon", 1700000000])
def test_micro_time_wants_six_digits(value: Any) -> None:
    lease = {"kind": "Lease", "apiVersion": "coordination.k8s.io/v1", "spec": {"acquireTime": value}}
    with pytest.raises(ApiError) as caught:
        timestamps.normalise(("coordination.k8s.io", "leases"), lease)
    assert caught.value.code == 400
    assert 'Lease in version "v1" cannot be handled as a Lease' in str(caught.value)


def test_custom_resources_keep_their_own_times() -> None:
    run = {"kind": "AgentRun", "status": {"conditions": [{"lastTransitionTime": "2026-11-24T08:00:00+00:00"}]}}
    timestamps.normalise(("atomesh.io", "agentruns"), run)
    assert run["status"]["conditions"][0]["lastTransitionTime"] == "2026-11-24T08:00:00+00:00"


def test_pod_container_states() -> None:
    state = {"terminated": {"startedAt": "2026-11-24T08:00:00+00:00", "finishedAt": "2026-11-24T08:01:00.5+00:00"}}
    pod = {"kind": "Pod", "status": {"containerStatuses": [{"lastState": state}]}}
    timestamps.normalise(("", "pods"), pod)
    assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"] == {
        "startedAt": "2026-11-24T08:00:00Z",
        "finishedAt": "2026-11-24T08:01:00Z",
    }
