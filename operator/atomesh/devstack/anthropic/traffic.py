"""What the Anthropic emulator sends, for whoever wants to check it: every response, as it leaves
the emulator; a streamed message as the list of its server-sent events.

    stop = traffic.subscribe(seen.append)   # seen: list[Exchange]
    ...
    stop()

Observers are process-wide, so a contract check sees every emulator a test starts, including those
an end-to-end stack builds itself. They run on the emulator's event loop and must be quick and must
not raise. An emulator in another process (`atomesh dev` started by a test) appends its traffic as
JSON lines to the file MODEL_EMULATOR_TRAFFIC_LOG names when nothing in its own process observes
(`log_from_environment`, `read_log`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atomesh.devstack.trafficlog import Observers, appender, read_lines

# Neither ATOMESH_- nor ANTHROPIC_-prefixed: tests that start `atomesh dev` as a user drop those.
LOG_ENV = "MODEL_EMULATOR_TRAFFIC_LOG"


@dataclass(frozen=True)
class Event:
    """One server-sent event: its `event:` name and its `data:` as sent."""

    name: str
    data: str


@dataclass(frozen=True)
class Exchange:
    """One response. `body` is the JSON body as sent ("" for a stream), `events` a stream's events."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    body: str
    events: tuple[Event, ...] = field(default=())
    # A response a cassette asked for on purpose (an error turn): its status and message are the
    # test's, but its shape is still the emulator's, so it is checked like any other.
    scripted: bool = False


Observer = Callable[[Exchange], None]
_observers: Observers[Exchange] = Observers()
subscribe = _observers.subscribe
observing = _observers.observing
publish = _observers.publish


def to_json(exchange: Exchange) -> str:
    data: dict[str, Any] = {**exchange.__dict__, "headers": dict(exchange.headers)}
    data["events"] = [[event.name, event.data] for event in exchange.events]
    return json.dumps(data)


def from_json(line: str) -> Exchange:
    data = json.loads(line)
    events = tuple(Event(name, payload) for name, payload in data.pop("events"))
    return Exchange(**data, events=events)


def log_from_environment() -> None:
    """Append this process's traffic to MODEL_EMULATOR_TRAFFIC_LOG, once, if it is set and nothing
    here observes already (the process that set it observes its own emulators directly)."""
    path = os.environ.get(LOG_ENV)
    if not path or observing():
        return
    append = appender(path)
    subscribe(lambda exchange: append(to_json(exchange)))


def read_log(path: str, offset: int) -> tuple[list[Exchange], int]:
    """The exchanges logged at `path` from byte `offset` on (whole lines only), and the next offset."""
    lines, end = read_lines(path, offset)
    return [from_json(line) for line in lines], end
