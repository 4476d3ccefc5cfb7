"""Peering priorities: distinct per pod, stable across restarts of the same pod, overridable."""

from atomesh.commands.operator import peering_priority


def test_explicit_priority_wins() -> None:
    assert peering_priority(7, "atomesh-0") == 7


def test_priority_is_stable_per_pod_and_distinct_between_pods() -> None:
    pods = [f"atomesh-operator-5d9c7-{suffix}" for suffix in ("abcde", "fghij", "klmno", "pqrst")]
    priorities = [peering_priority(None, pod) for pod in pods]
    assert priorities == [peering_priority(None, pod) for pod in pods]
    assert len(set(priorities)) == len(pods)
    assert all(priority > 0 for priority in priorities)


def test_without_a_pod_id_the_priority_is_kopfs_default() -> None:
    assert peering_priority(None, None) == 0
