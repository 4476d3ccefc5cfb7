"""The work queue's semantics (client-go's workqueue), on a stepped clock: nothing here sleeps."""

from __future__ import annotations

import threading

from atomesh.controller.workqueue import WorkQueue
from atomesh.core.requeue import RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def queue(clock: Clock | None = None) -> WorkQueue[str]:
    return WorkQueue(RetryPolicy(initial=5, factor=2, maximum=30), clock or Clock())


def test_adding_a_queued_key_again_coalesces() -> None:
    q = queue()
    for key in ("a", "b", "a", "a", "b"):
        q.add(key)
    assert len(q) == 2
    assert [q.get(0), q.get(0), q.get(0)] == ["a", "b", None]


def test_a_key_is_handed_to_one_worker_at_a_time_and_once_more_when_added_meanwhile() -> None:
    q = queue()
    q.add("a")
    assert q.get(0) == "a"
    q.add("a")  # changed while processing: dirty, not handed out to a second worker
    q.add("a")
    assert q.get(0) is None
    q.done("a")
    assert q.get(0) == "a"  # once more, after the first finished
    q.done("a")
    assert q.get(0) is None


def test_add_after_waits_for_its_delay_and_keeps_the_earlier_time() -> None:
    clock = Clock()
    q = queue(clock)
    q.add_after("rollup", 0.5)
    q.add_after("rollup", 0.5)  # a burst of follow-ups: one reconcile
    q.add_after("prune", 10)
    q.add_after("prune", 2)  # earlier wins
    assert q.get(0) is None
    clock.now += 0.5
    assert q.get(0) == "rollup"
    assert q.get(0) is None
    clock.now += 1.5
    assert q.get(0) == "prune"
    clock.now += 10
    assert q.get(0) is None  # the superseded later time does not fire again


def test_a_key_waiting_on_a_delay_and_added_now_is_handed_out_now_and_once() -> None:
    clock = Clock()
    q = queue(clock)
    q.add_after("a", 5)
    q.add("a")
    assert q.get(0) == "a"
    q.done("a")
    clock.now += 5
    assert q.get(0) == "a"  # the delayed add is an add of its own (client-go does the same)


def test_rate_limited_requeues_back_off_per_key_until_forgotten() -> None:
    clock = Clock()
    q = queue(clock)
    delays = []
    for _ in range(4):
        delays.append(q.backoff("a"))
        q.add_rate_limited("a")
        clock.now += delays[-1] - 0.001
        assert q.get(0) is None
        clock.now += 0.001
        assert q.get(0) == "a"
        q.done("a")
    assert delays == [5, 10, 20, 30]
    assert q.num_requeues("a") == 4
    assert q.backoff("b") == 5  # other keys have their own count
    q.forget("a")
    assert (q.num_requeues("a"), q.backoff("a")) == (0, 5)


def test_shut_down_hands_out_queued_and_delayed_keys_drops_backoffs_and_ignores_adds() -> None:
    q = queue()
    q.add("queued")
    q.add_after("follow-up", 60)
    q.add_rate_limited("failing")
    q.shut_down()
    q.add("late")
    q.add_after("late", 1)
    assert sorted([q.get(), q.get()]) == ["follow-up", "queued"]  # type: ignore[type-var]
    assert q.get() is None  # does not block: shut down and empty
    assert q.shutting_down


def test_a_key_dirtied_during_shut_down_is_still_reconciled_once_more() -> None:
    q = queue()
    q.add("a")
    assert q.get(0) == "a"
    q.add("a")
    q.shut_down()
    q.done("a")
    assert q.get() == "a"
    q.done("a")
    assert q.get() is None


def test_shut_down_with_a_timeout_waits_for_the_keys_in_flight() -> None:
    q = queue()
    q.add("a")
    assert q.get(0) == "a"
    assert not q.shut_down(timeout=0)  # "a" is still processing
    finished = threading.Event()

    def finish() -> None:
        q.done("a")
        finished.set()

    worker = threading.Thread(target=finish)
    worker.start()
    assert q.shut_down(timeout=30)
    worker.join()
    assert finished.is_set()


def test_a_waiting_get_is_woken_by_an_add_from_another_thread() -> None:
    q = queue()
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(q.get()))
    worker.start()
    q.add("a")
    worker.join(30)
    assert got == ["a"]


def test_resync_keys_wait_behind_new_work() -> None:
    q = queue()
    for key in ("old-1", "old-2", "old-3"):
        q.add_resync(key)
    q.add("new")
    assert len(q) == 4
    assert q.get(0) == "new"  # created during the resync: not queued behind it
    q.done("new")
    assert [q.get(0), q.get(0), q.get(0), q.get(0)] == ["old-1", "old-2", "old-3", None]


def test_held_resync_keys_wait_for_their_release_while_new_work_flows() -> None:
    q = queue()
    q.hold_resync()
    q.add_resync("old")
    q.add("new")
    assert [q.get(0), q.get(0)] == ["new", None]  # the start-up still lists: resyncs wait
    got: list[str | None] = []
    worker = threading.Thread(target=lambda: got.append(q.get()))
    worker.start()
    q.release_resync()  # wakes a worker waiting for work
    worker.join(30)
    assert got == ["old"]


def test_a_resync_key_added_again_moves_to_the_front_once() -> None:
    q = queue()
    q.add_resync("a")
    q.add_resync("b")
    q.add("b")  # b changed meanwhile: new work
    q.add_resync("b")  # and a re-list saw it again: still once
    assert [q.get(0), q.get(0), q.get(0)] == ["b", "a", None]


def test_a_resync_key_being_processed_is_queued_again_once_done() -> None:
    q = queue()
    q.add("a")
    assert q.get(0) == "a"
    q.add_resync("a")
    assert q.get(0) is None
    q.done("a")
    assert q.get(0) == "a"


def test_shut_down_hands_out_resync_keys_too() -> None:
    q = queue()
    q.add_resync("a")
    q.shut_down()
    assert [q.get(0), q.get(0)] == ["a", None]


def test_idle_means_nothing_queued_and_nothing_processing() -> None:
    q = queue()
    assert q.idle
    q.add_resync("a")
    assert not q.idle
    assert q.get(0) == "a"
    assert not q.idle
    q.done("a")
    assert q.idle
