"""Coalescing: a burst of pokes of one key runs its latest action once; keys stay apart."""

import threading

from atomesh.controller.coalesce import Coalescer


def test_a_burst_of_pokes_runs_the_latest_action_once_per_key() -> None:
    done = threading.Event()
    calls: list[str] = []
    coalescer = Coalescer(delay=0.2)
    for index in range(100):
        coalescer.poke("agent-a", lambda index=index: calls.append(f"a{index}"))
    coalescer.poke("agent-b", lambda: calls.append("b"))
    coalescer.poke("done", done.set)
    assert done.wait(10)
    coalescer.stop()
    assert sorted(calls) == ["a99", "b"]


def test_stop_runs_what_is_pending_and_ignores_later_pokes() -> None:
    calls: list[str] = []
    coalescer = Coalescer(delay=0.05)
    coalescer.poke("k", lambda: calls.append("before"))
    coalescer.stop()
    coalescer.poke("k", lambda: calls.append("after"))
    assert calls == ["before"]


def test_a_failing_action_does_not_stop_the_others() -> None:
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    coalescer = Coalescer(delay=0.05)
    coalescer.poke("bad", fail)
    coalescer.poke("good", done.set)
    assert done.wait(10)
    coalescer.stop()
