"""The operator's one door for events from outside: every webhook source registers here.

A source says how to read a delivery (`parse`: verify, then decode) and what it asks for
(`route`: the reconciles to run). The ingress does the rest the same way for every source:

- POST <path>: 401 when verification fails (the source raises PermissionError), 400 for a body it
  cannot read (ValueError), 200 for an event it ignores or a redelivery of one already accepted,
  202 once the reconciles it asked for are queued on the thread pool (never run on the event loop).
- Bodies over the server's client_max_size (1 MiB) are answered 413 by aiohttp before any parsing.
- Redeliveries are recognised by the sender's delivery id, per source, over the last
  `SEEN_DELIVERIES` deliveries.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

log = logging.getLogger(__name__)
SEEN_DELIVERIES = 1024


@dataclass(frozen=True)
class Delivery:
    """One event a source read: the sender's delivery id ('' when it gives none) and the event itself."""

    id: str
    event: object


class EventSource(Protocol):
    """What a webhook source gives the ingress."""

    name: str
    path: str

    def parse(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        """The delivery, or None for an event the source ignores; PermissionError / ValueError refuse it."""
        ...

    def route(self, event: object) -> Sequence[Callable[[], None]]:
        """The reconciles the event asks for (each runs on the thread pool; each handles its own errors)."""
        ...


class Ingress:
    """Registered sources, served as aiohttp routes on the operator's HTTP endpoint."""

    def __init__(self) -> None:
        self._sources: list[EventSource] = []
        self._seen: dict[str, OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def register(self, source: EventSource) -> None:
        if any(existing.path == source.path for existing in self._sources):
            raise ValueError(f"two webhook sources on {source.path}")
        self._sources.append(source)
        self._seen[source.name] = OrderedDict()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(source.path, self._receiver(source)) for source in self._sources]

    def first_delivery(self, source: str, delivery: str) -> bool:
        """False for a redelivery already accepted (senders redeliver with the same id)."""
        if not delivery:
            return True
        with self._lock:
            seen = self._seen.setdefault(source, OrderedDict())
            if delivery in seen:
                return False
            seen[delivery] = None
            while len(seen) > SEEN_DELIVERIES:
                seen.popitem(last=False)
            return True

    def _receiver(self, source: EventSource) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def receive(request: web.Request) -> web.Response:
            body = await request.read()
            try:
                delivery = source.parse(request.headers, body)
            except PermissionError as error:
                return web.json_response({"message": str(error)}, status=401)
            except ValueError as error:
                return web.json_response({"message": str(error)}, status=400)
            if delivery is None:
                return web.json_response({"message": "ignored"}, status=200)
            if not self.first_delivery(source.name, delivery.id):
                return web.json_response({"message": "duplicate delivery"}, status=200)
            reconciles = source.route(delivery.event)
            loop = asyncio.get_running_loop()
            for reconcile in reconciles:
                loop.run_in_executor(None, reconcile)
            return web.json_response({"message": "accepted", "queued": len(reconciles)}, status=202)

        return receive
