"""The webhook ingress over real HTTP on loopback: every answer it gives, for a source of the test's own."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Mapping, Sequence

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from atomesh.controller.ingress import Delivery, Ingress


class Source:
    """Accepts bodies `ok:<id>:<n>` signed with header `X-Sig: yes`; `skip` is an event it ignores."""

    name = "test"
    path = "/webhooks/test"

    def __init__(self) -> None:
        self.ran: list[int] = []
        self.done = threading.Event()

    def parse(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        if headers.get("X-Sig") != "yes":
            raise PermissionError("signature missing")
        text = body.decode()
        if text == "skip":
            return None
        kind, delivery, count = [*text.split(":"), "", ""][:3]
        if kind != "ok" or not count.isdigit():
            raise ValueError(f"not an event: {text!r}")
        return Delivery(delivery, int(count))

    def route(self, event: object) -> Sequence[Callable[[], None]]:
        assert isinstance(event, int)

        def reconcile(n: int) -> None:
            self.ran.append(n)
            if len(self.ran) == event:
                self.done.set()

        return [lambda n=n: reconcile(n) for n in range(event)]


async def exchange(ingress: Ingress, requests: list[tuple[dict[str, str], bytes]]) -> list[tuple[int, object]]:
    """POST each body in turn (as a stream, which aiohttp prefers for the large one)."""
    app = web.Application()
    app.add_routes(ingress.routes())
    answers = []
    async with TestServer(app, host="127.0.0.1") as server, ClientSession() as session:
        for headers, body in requests:
            async with session.post(server.make_url(Source.path), headers=headers, data=io.BytesIO(body)) as response:
                json = response.content_type == "application/json"
                answers.append((response.status, (await response.json())["message"] if json else None))
    return answers


def test_every_answer_of_the_ingress() -> None:
    source = Source()
    ingress = Ingress()
    ingress.register(source)
    signed = {"X-Sig": "yes"}
    answers = asyncio.run(
        exchange(
            ingress,
            [
                ({}, b"ok:d-1:2"),
                (signed, b"garbage"),
                (signed, b"skip"),
                (signed, b"ok:d-1:2"),
                (signed, b"ok:d-1:2"),
                (signed, b"x" * (1024 * 1024 + 1)),
            ],
        )
    )
    assert [status for status, _ in answers] == [401, 400, 200, 202, 200, 413]
    assert answers[0][1] == "signature missing"
    assert (answers[2][1], answers[4][1]) == ("ignored", "duplicate delivery")
    assert source.done.wait(10), "the accepted delivery's reconciles ran on the pool"
    assert sorted(source.ran) == [0, 1]


def test_redeliveries_are_recognised_per_source() -> None:
    ingress = Ingress()
    assert ingress.first_delivery("github", "d-1")
    assert not ingress.first_delivery("github", "d-1")
    assert ingress.first_delivery("slack", "d-1")
    assert ingress.first_delivery("github", "")  # no id: never a redelivery
    assert ingress.first_delivery("github", "")


class Named(Source):
    """The test source under another name, on the same path (as two GitHub consumers share one URL)."""

    name = "second"


class Routed:
    """A source on a path with placeholders: it knows the room 'red' only."""

    name = "rooms"
    path = "/webhooks/rooms/{room}"

    def __init__(self) -> None:
        self.rooms: list[str] = []
        self.done = threading.Event()

    def parse_at(self, params: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Delivery | None:
        if params["room"] != "red":
            raise LookupError(f"no room {params['room']!r}")
        return Delivery(body.decode(), params["room"])

    def route(self, event: object) -> Sequence[Callable[[], None]]:
        def reconcile() -> None:
            self.rooms.append(str(event))
            self.done.set()

        return [reconcile]


async def post_all(ingress: Ingress, requests: list[tuple[str, dict[str, str], bytes]]) -> list[tuple[int, str]]:
    app = web.Application()
    app.add_routes(ingress.routes())
    answers = []
    async with TestServer(app, host="127.0.0.1") as server, ClientSession() as session:
        for path, headers, body in requests:
            async with session.post(server.make_url(path), headers=headers, data=body) as response:
                answers.append((response.status, (await response.json())["message"]))
    return answers


def test_sources_sharing_a_path_each_get_the_delivery_and_any_refusal_refuses_it() -> None:
    first, second = Source(), Named()
    ingress = Ingress()
    ingress.register(first)
    ingress.register(second)
    signed = {"X-Sig": "yes"}
    answers = asyncio.run(
        post_all(
            ingress,
            [(Source.path, {}, b"ok:d-1:1"), (Source.path, signed, b"ok:d-1:1"), (Source.path, signed, b"ok:d-1:1")],
        )
    )
    assert [status for status, _ in answers] == [401, 202, 200]
    assert first.done.wait(10)
    assert second.done.wait(10)
    assert (first.ran, second.ran) == ([0], [0])


def test_a_path_with_placeholders_passes_their_values_and_unknown_ones_are_404() -> None:
    source = Routed()
    ingress = Ingress()
    ingress.register(source)
    answers = asyncio.run(
        post_all(ingress, [("/webhooks/rooms/blue", {}, b"d-1"), ("/webhooks/rooms/red", {}, b"d-1")])
    )
    assert answers == [(404, "no room 'blue'"), (202, "accepted")]
    assert source.done.wait(10)
    assert source.rooms == ["red"]
