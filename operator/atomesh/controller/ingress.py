"""The operator's one door for events from outside: every webhook source registers here.

A source says how to read a delivery (`parse`: verify, then decode) and what it asks for
(`route`: the reconciles to run). The ingress does the rest the same way for every source:

- POST <path>: 401 when verification fails (the source raises PermissionError), 400 for a body it
  cannot read (ValueError), 404 for a path naming nothing it knows (LookupError), 200 for an event it
  ignores or a redelivery of one already accepted, 202 once the reconciles it asked for are queued on
  the thread pool (never run on the event loop; parsing runs there too, as it may read a Secret).
- Several sources may share a path (GitHub sends every event of a repository to one URL): each reads
  the delivery, any refusal refuses it, and the reconciles of all that accept it are queued.
- A path may have `{placeholders}` (aiohttp's syntax); a source on such a path implements
  `PathEventSource.parse_at`, which also gets their values.
- Bodies over the server's client_max_size (1 MiB) are answered 413 by aiohttp before any parsing.
- Redeliveries are recognised by the sender's delivery id, per source, over the last
  `SEEN_DELIVERIES` deliveries.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class PathEventSource(Protocol):
    """A webhook source on a path with `{placeholders}`: it reads their values with the delivery."""

    name: str
    path: str

    def parse_at(self, params: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Delivery | None:
        """As `EventSource.parse`; LookupError for placeholders that name nothing it knows (404)."""
        ...

    def route(self, event: object) -> Sequence[Callable[[], None]]: ...


AnySource = EventSource | PathEventSource


class Ingress:
    """Registered sources, served as aiohttp routes on the operator's HTTP endpoint."""

    def __init__(self) -> None:
        self._sources: dict[str, list[AnySource]] = {}
        self._seen: dict[str, OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def register(self, source: AnySource) -> None:
        if source.name in self._seen:
            raise ValueError(f"two webhook sources named {source.name}")
        self._sources.setdefault(source.path, []).append(source)
        self._seen[source.name] = OrderedDict()

    def routes(self) -> list[web.RouteDef]:
        return [web.post(path, self._receiver(sources)) for path, sources in self._sources.items()]

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

    def _receiver(self, sources: Sequence[AnySource]) -> Callable[[web.Request], Awaitable[web.Response]]:
        def parse_all(
            params: Mapping[str, str], headers: Mapping[str, str], body: bytes
        ) -> list[tuple[str, Delivery, AnySource]]:
            parsed = []
            for source in sources:
                if isinstance(source, PathEventSource):
                    delivery = source.parse_at(params, headers, body)
                else:
                    delivery = source.parse(headers, body)
                if delivery is not None:
                    parsed.append((source.name, delivery, source))
            return parsed

        async def receive(request: web.Request) -> web.Response:
            body = await request.read()
            loop = asyncio.get_running_loop()
            parse = functools.partial(parse_all, dict(request.match_info), request.headers, body)
            try:
                parsed = await loop.run_in_executor(None, parse)
            except PermissionError as error:
                return web.json_response({"message": str(error)}, status=401)
            except ValueError as error:
                return web.json_response({"message": str(error)}, status=400)
            except LookupError as error:
                return web.json_response({"message": str(error.args[0] if error.args else error)}, status=404)
            if not parsed:
                return web.json_response({"message": "ignored"}, status=200)
            fresh = [(delivery, source) for name, delivery, source in parsed if self.first_delivery(name, delivery.id)]
            if not fresh:
                return web.json_response({"message": "duplicate delivery"}, status=200)
            reconciles = [reconcile for delivery, source in fresh for reconcile in source.route(delivery.event)]
            for reconcile in reconciles:
                loop.run_in_executor(None, reconcile)
            return web.json_response({"message": "accepted", "queued": len(reconciles)}, status=202)

        return receive
