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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atomesh.devstack.trafficlog import Observers

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


def to_json(exchange: Exchange) -> str:
    data: dict[str, Any] = {**exchange.__dict__, "headers": dict(exchange.headers)}
    data["events"] = [[event.name, event.data] for event in exchange.events]
    return json.dumps(data)


def from_json(line: str) -> Exchange:
    data = json.loads(line)
    events = tuple(Event(name, payload) for name, payload in data.pop("events"))
    return Exchange(**data, events=events)


_traffic: Observers[Exchange] = Observers(LOG_ENV, to_json, from_json)
subscribe = _traffic.subscribe
observing = _traffic.observing
publish = _traffic.publish
log_from_environment = _traffic.log_from_environment
read_log = _traffic.read_log
