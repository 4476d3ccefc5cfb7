"""Watch streams: chunked JSON lines, one flushed per event.

The snapshot (or the replay from the history) and the subscription happen in one synchronous
step, so no event between them is lost or duplicated. Each event's object JSON is encoded once
(`Stored.raw`) and shared by every watcher.

A watch that asks for `as=Table` (`kubectl get -w`) gets each event's object as a
`meta.k8s.io/v1` Table of one row, as kube-apiserver's `watchEmbeddedEncoder` does (apiserver
`pkg/endpoints/handlers/response.go`): column definitions on the first event only (it sets
`NoHeaders` after encoding one), bookmarks converted like any object, ERROR Status objects as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from atomesh.devstack.kube import table
from atomesh.devstack.kube.errors import ApiError, bad_request
from atomesh.devstack.kube.resources import ResourceInfo
from atomesh.devstack.kube.selectors import Predicate
from atomesh.devstack.kube.store import Event, Store, Stored, Watcher, encode

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
TRUE = ("true", "1", "yes")


def flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "").lower() in TRUE


def event_line(type_: str, stored: Stored, info: ResourceInfo) -> bytes:
    raw = stored.raw
    if stored.obj.get("apiVersion") != info.group_version:  # another served version of a CRD
        raw = encode({**stored.obj, "apiVersion": info.group_version})
    return b'{"type":"' + type_.encode() + b'","object":' + raw + b"}\n"


def bookmark_line(info: ResourceInfo, rv: int, initial_end: bool = False) -> bytes:
    return _line("BOOKMARK", bookmark(info, rv, initial_end))


def bookmark(info: ResourceInfo, rv: int, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {"kind": info.kind, "apiVersion": info.group_version, "metadata": meta}


def _line(type_: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"


class Encoder:
    """One watch's event lines: the stored objects as they are, or Tables when the client asked."""

    def __init__(self, info: ResourceInfo, table_options: table.TableOptions | None) -> None:
        self.info = info
        self.table_options = table_options

    def _as_table(self, obj: dict[str, Any]) -> dict[str, Any]:
        assert self.table_options is not None
        rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
        result = table.table(self.info, [obj], rv, self.table_options)
        # kube-apiserver sends the column definitions once: later events carry rows only
        self.table_options = table.TableOptions(self.table_options.include_object, no_headers=True)
        return result

    def event(self, type_: str, stored: Stored) -> bytes:
        if self.table_options is None:
            return event_line(type_, stored, self.info)
        obj = stored.obj
        if obj.get("apiVersion") != self.info.group_version:  # another served version of a CRD
            obj = {**obj, "apiVersion": self.info.group_version}
        return _line(type_, self._as_table(obj))

    def bookmark(self, rv: int, initial_end: bool = False) -> bytes:
        if self.table_options is None:
            return bookmark_line(self.info, rv, initial_end)
        return _line("BOOKMARK", self._as_table(bookmark(self.info, rv, initial_end)))


def expired_line(rv: str, oldest: int) -> bytes:
    status = ApiError(410, f"too old resource version: {rv} ({oldest})", "Expired").status()
    return json.dumps({"type": "ERROR", "object": status}, separators=(",", ":")).encode() + b"\n"


class WatchOptions:
    def __init__(self, params: Mapping[str, str], table_options: table.TableOptions | None = None) -> None:
        self.table_options = table_options
        self.resource_version = params.get("resourceVersion", "")
        self.bookmarks = flag(params, "allowWatchBookmarks")
        self.send_initial = flag(params, "sendInitialEvents")
        timeout = params.get("timeoutSeconds")
        try:
            self.timeout = float(timeout) if timeout else None
        except ValueError as exc:
            raise bad_request(f"timeoutSeconds must be a number, got {timeout!r}") from exc
        if self.send_initial and params.get("resourceVersionMatch") != "NotOlderThan":
            raise ApiError(
                422,
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
                "resourceVersionMatch to NotOlderThan",
            )
        if self.resource_version and not self.resource_version.isdigit():
            raise bad_request(f'invalid resource version "{self.resource_version}"')


async def serve(
    request: web.Request,
    store: Store,
    info: ResourceInfo,
    namespace: str | None,
    matches: Predicate,
    options: WatchOptions,
    bookmark_interval: float,
) -> web.StreamResponse:
    watcher = Watcher(info.gr, namespace, matches)
    encoder = Encoder(info, options.table_options)
    first: list[bytes] = []
    expired = False
    if options.send_initial or options.resource_version in ("", "0"):
        for stored in _current(store, info, namespace, matches):
            first.append(encoder.event("ADDED", stored))
        if options.send_initial:
            first.append(encoder.bookmark(store.rv, initial_end=True))
    else:
        events: Iterable[Event] | None = store.events_since(int(options.resource_version))
        if events is None:
            oldest = store.history[0].rv if store.history else store.rv
            first.append(expired_line(options.resource_version, oldest))
            expired = True
        else:
            for event in events:
                if event.gr == info.gr:
                    seen = watcher.translate(event)
                    if seen is not None:
                        first.append(encoder.event(seen, event.stored))
    if not expired:
        store.subscribe(watcher)  # same synchronous step as the snapshot: nothing lost in between
    response = web.StreamResponse(headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        if first:
            await response.write(b"".join(first))
        if not expired:
            await _stream(request, response, store, encoder, watcher, options, bookmark_interval)
    except (ConnectionResetError, asyncio.CancelledError, RuntimeError):
        pass  # the client went away, or the server is shutting down
    finally:
        store.unsubscribe(watcher)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await response.write_eof()
    return response


def _current(store: Store, info: ResourceInfo, namespace: str | None, matches: Predicate) -> list[Stored]:
    return [s for s in store.iter(info.gr, namespace) if matches(s.obj)]


async def _stream(
    request: web.Request,
    response: web.StreamResponse,
    store: Store,
    encoder: Encoder,
    watcher: Watcher,
    options: WatchOptions,
    bookmark_interval: float,
) -> None:
    deadline = time.monotonic() + options.timeout if options.timeout else None
    queue = watcher.queue
    while True:
        wait = bookmark_interval
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                return
        try:
            type_, event = await asyncio.wait_for(queue.get(), wait)
        except TimeoutError:
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            if options.bookmarks and (deadline is None or time.monotonic() < deadline):
                await response.write(encoder.bookmark(store.rv))
            continue
        chunk = [encoder.event(type_, event.stored)]
        while not queue.empty():  # drain what is ready: one write, still one line per event
            type_, event = queue.get_nowait()
            chunk.append(encoder.event(type_, event.stored))
        await response.write(b"".join(chunk))
