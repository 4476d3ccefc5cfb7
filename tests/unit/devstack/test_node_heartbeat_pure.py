"""Pure pieces of the local kubelet's Node and of the emulator's node lifecycle controller."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomesh.devstack.kube.nodelifecycle import desired_taints, reconcile_taints, unknown_conditions
from atomesh.devstack.kubelet.nodestatus import (
    build_node_status,
    local_node_name,
    merged_taints,
    status_changed,
)
from atomesh.devstack.kubelet.placement import fits, tolerates


def test_local_node_name_is_a_dns_subdomain_per_host() -> None:
    assert local_node_name("Dev_Box.example.com") == "atomesh-local-dev-box"
    assert local_node_name("___") == "atomesh-local"
    assert len(local_node_name("x" * 100)) <= 63


def test_status_change_ignores_heartbeats_but_keeps_transition_times(tmp_path: Path) -> None:
    first = build_node_status("n", tmp_path, None, 10250, now="2026-01-01T00:00:00Z")
    later = build_node_status("n", tmp_path, first, 10250, now="2026-01-01T00:00:10Z")
    assert {c["lastTransitionTime"] for c in later["conditions"]} == {"2026-01-01T00:00:00Z"}
    assert {c["lastHeartbeatTime"] for c in later["conditions"]} == {"2026-01-01T00:00:10Z"}
    assert not status_changed(first, later)
    unknown = {**first, "conditions": [{**c, "status": "Unknown"} for c in first["conditions"]]}
    assert status_changed(unknown, later)
    back = build_node_status("n", tmp_path, unknown, 10250, now="2026-01-01T00:01:00Z")
    assert {c["lastTransitionTime"] for c in back["conditions"]} == {"2026-01-01T00:01:00Z"}


def test_merged_taints_keep_others_and_add_ours_once() -> None:
    ours = [{"key": "atomesh.io/local-runner", "value": "true", "effect": "NoSchedule"}]
    other = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
    assert merged_taints([other], ours) == [other, ours[0]]
    assert merged_taints([other, ours[0]], ours) == [other, ours[0]]


def node(ready: str | None, taints: list[dict[str, str]] | None = None) -> dict[str, object]:
    conditions = [] if ready is None else [{"type": "Ready", "status": ready, "lastHeartbeatTime": "t0"}]
    return {
        "metadata": {"name": "n", "creationTimestamp": "t-created"},
        "spec": {"taints": taints or []},
        "status": {"conditions": conditions},
    }


def test_condition_taints_follow_the_node_lifecycle_controller() -> None:
    assert desired_taints(node("True")) == set()
    assert desired_taints(node("False")) == {
        ("node.kubernetes.io/not-ready", "NoSchedule"),
        ("node.kubernetes.io/not-ready", "NoExecute"),
    }
    assert desired_taints(node("Unknown")) == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }


def test_reconcile_adds_and_lifts_only_the_controllers_taints() -> None:
    ours = {"key": "atomesh.io/local-runner", "value": "true", "effect": "NoSchedule"}
    tainted = reconcile_taints(node("Unknown", [ours]), "now")
    assert tainted is not None
    assert tainted[0] == ours
    assert {(t["key"], t["effect"], t.get("timeAdded")) for t in tainted[1:]} == {
        ("node.kubernetes.io/unreachable", "NoSchedule", "now"),
        ("node.kubernetes.io/unreachable", "NoExecute", "now"),
    }
    assert reconcile_taints(node("Unknown", tainted), "later") is None
    assert reconcile_taints(node("True", tainted), "later") == [ours]


def test_unknown_conditions_mark_stale_and_missing_ones() -> None:
    conditions = {c["type"]: c for c in unknown_conditions(node("True"), "now")}
    assert conditions["Ready"]["reason"] == "NodeStatusUnknown"
    assert conditions["Ready"]["lastTransitionTime"] == "now"
    assert conditions["Ready"]["lastHeartbeatTime"] == "t0"
    assert conditions["PIDPressure"]["reason"] == "NodeStatusNeverUpdated"
    assert conditions["PIDPressure"]["lastHeartbeatTime"] == "t-created"
    assert {c["status"] for c in conditions.values()} == {"Unknown"}


LOCAL_TAINT = {"key": "atomesh.io/local-runner", "value": "true", "effect": "NoSchedule"}
LOCAL_LABELS = {"atomesh.io/local-runner": "true", "kubernetes.io/hostname": "n"}


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "atomesh.io/local-runner", "operator": "Equal", "value": "true", "effect": "NoSchedule"}, True),
        ({"key": "atomesh.io/local-runner", "value": "true"}, True),  # Equal by default, any effect
        ({"key": "atomesh.io/local-runner", "operator": "Exists"}, True),
        ({"operator": "Exists"}, True),  # empty key with Exists: every taint
        ({"key": "atomesh.io/local-runner", "value": "false"}, False),
        ({"key": "atomesh.io/local-runner", "operator": "Exists", "effect": "NoExecute"}, False),
        ({"key": "other", "operator": "Exists"}, False),
        ({"value": "true"}, False),  # an empty key needs Exists
    ],
)
def test_tolerations_match_as_the_scheduler_matches(toleration: dict[str, str], expected: bool) -> None:
    assert tolerates(toleration, LOCAL_TAINT) is expected


def test_placement_needs_the_toleration_and_a_matching_node_selector() -> None:
    toleration = {"key": "atomesh.io/local-runner", "operator": "Exists"}
    assert fits({"tolerations": [toleration]}, LOCAL_LABELS, [LOCAL_TAINT])
    assert not fits({}, LOCAL_LABELS, [LOCAL_TAINT])
    assert fits({}, LOCAL_LABELS, [{**LOCAL_TAINT, "effect": "PreferNoSchedule"}])
    selected = {"tolerations": [toleration], "nodeSelector": {"atomesh.io/local-runner": "true"}}
    assert fits(selected, LOCAL_LABELS, [LOCAL_TAINT])
    assert not fits({**selected, "nodeSelector": {"disk": "ssd"}}, LOCAL_LABELS, [LOCAL_TAINT])
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}
    assert not fits({**selected, "affinity": affinity}, LOCAL_LABELS, [LOCAL_TAINT])
