"""ReviewState: the review loop's per-operator caches (no forge calls: the stub only records)."""

from __future__ import annotations

from atomesh.controller.review import FULL_LOOK_EVERY, ReviewState
from atomesh.forge.fake import FakeForge


def test_a_304_is_trusted_for_a_bounded_number_of_polls() -> None:
    state = ReviewState(FakeForge())
    looks = [state.unchanged_poll("ns", "run") for _ in range(2 * FULL_LOOK_EVERY)]
    assert looks == ([False] * (FULL_LOOK_EVERY - 1) + [True]) * 2


def test_leaving_review_forgets_the_count() -> None:
    state = ReviewState(FakeForge())
    for _ in range(FULL_LOOK_EVERY - 1):
        state.unchanged_poll("ns", "run")
    state.track("ns", "run", "demo/app", 1, waiting=False)
    assert not state.unchanged_poll("ns", "run")
