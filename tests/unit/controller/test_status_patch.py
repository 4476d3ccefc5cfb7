"""status_patch: the merge patch that turns one status into another, nested keys included."""

from __future__ import annotations

from atomesh.core.plan import status_patch


def test_only_what_changed_is_sent() -> None:
    old = {"phase": "Running", "usage": {"turns": 1}, "message": "m"}
    assert status_patch(old, {**old, "phase": "AwaitingReview"}) == {"phase": "AwaitingReview"}
    assert status_patch(old, old) == {}


def test_keys_that_disappear_are_nulled_at_any_depth() -> None:
    old = {"review": {"number": 3, "revisionRun": "fix-1-r1", "state": "changesRequested"}, "reason": "x"}
    new = {"review": {"number": 3, "state": "open"}}
    assert status_patch(old, new) == {"review": {"revisionRun": None, "state": "open"}, "reason": None}


def test_lists_and_new_objects_are_sent_whole() -> None:
    old = {"conditions": [{"type": "Ready"}], "review": None}
    new = {"conditions": [{"type": "Ready"}, {"type": "Stalled"}], "review": {"number": 1}}
    assert status_patch(old, new) == new
