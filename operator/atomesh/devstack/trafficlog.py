"""An emulator's traffic as a file of JSON lines, shared across processes: `atomesh dev` started by a
test appends what its emulators answered, the test's contract check reads it back.

`Observers` is the in-process side: who is told of each exchange as it is answered.

Appends are whole lines written with one O_APPEND write each, so concurrent writers never interleave
within a line; a reader takes only complete lines and remembers where it stopped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def appender(path: str) -> Callable[[str], None]:
    """A function that appends one line (without its newline) to `path`, safe across threads and processes."""
    lock = threading.Lock()

    def append(line: str) -> None:
        data = (line + "\n").encode()
        with lock:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, data)
            finally:
                os.close(descriptor)

    return append


def read_lines(path: str, offset: int) -> tuple[list[str], int]:
    """The complete lines of `path` from byte `offset` on, and the offset after them."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]
    return [line for line in complete.decode().splitlines() if line], offset + len(complete)


class Observers(Generic[T]):
    """Who is told of every exchange an emulator answers (the contract checks subscribe), and the log
    file that carries the exchanges of another process: `variable` names it, `encode`/`decode` turn an
    exchange into one JSON line and back."""

    def __init__(self, variable: str, encode: Callable[[T], str], decode: Callable[[str], T]) -> None:
        self._observers: list[Callable[[T], None]] = []
        self._lock = threading.Lock()
        self.variable = variable
        self._encode = encode
        self._decode = decode

    def subscribe(self, observer: Callable[[T], None]) -> Callable[[], None]:
        """Call `observer` with every exchange from now on; returns the function that unsubscribes."""
        with self._lock:
            self._observers.append(observer)

        def unsubscribe() -> None:
            with self._lock:
                if observer in self._observers:
                    self._observers.remove(observer)

        return unsubscribe

    def observing(self) -> bool:
        with self._lock:
            return bool(self._observers)

    def publish(self, exchange: T) -> None:
        with self._lock:
            observers = list(self._observers)
        for observer in observers:
            observer(exchange)

    def log_from_environment(self) -> None:
        """Append this process's traffic to the file `variable` names, once, if it is set and nothing here
        observes already (the process that set it observes its own emulators directly)."""
        path = os.environ.get(self.variable)
        if not path or self.observing():
            return
        append = appender(path)
        self.subscribe(lambda exchange: append(self._encode(exchange)))

    def read_log(self, path: str, offset: int) -> tuple[list[T], int]:
        """The exchanges logged at `path` from byte `offset` on (whole lines only), and the next offset."""
        lines, end = read_lines(path, offset)
        return [self._decode(line) for line in lines], end
