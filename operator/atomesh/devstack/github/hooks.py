"""Webhook deliveries: signed POSTs to every subscribed hook, recorded in a delivery log.

Deliveries run as tasks on the emulator's loop, so the request that caused an event returns
first, as on GitHub. Tests wait on the log (`Dispatcher.wait`) rather than on time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from . import traffic
from .activity import Activity
from .store import Hook, Repo, Store, now_iso

Json = dict[str, Any]
USER_AGENT = "GitHub-Hookshot/atomesh-emulator"


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends: HMAC-SHA256 of the raw body, hex, prefixed."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    id: str
    hook_id: int
    url: str
    event: str
    action: str | None
    repo: str
    payload: Json
    body: bytes
    headers: dict[str, str]
    created_at: str
    status: int | None = None
    response: str = ""
    error: str | None = None
    attempts: int = 0
    redelivery: bool = False
    done: bool = field(default=False, repr=False)


class Dispatcher:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.activity = Activity(store)  # the events API sees what webhooks see
        self.log: list[Delivery] = []
        self._changed = threading.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        # One lock per hook keeps its deliveries in the order the events happened.
        self._order: dict[int, asyncio.Lock] = {}

    def hooks_for(self, repo: Repo, event: str) -> list[Hook]:
        return [hook for hook in [*self.store.global_hooks, *repo.hooks] if hook.wants(event)]

    def emit(self, repo: Repo, event: str, payload: Json, *, only: Hook | None = None) -> list[Delivery]:
        """Queue a delivery of `event` to each subscribed hook (or to `only`); call on the emulator's loop."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        if only is None:
            self.activity.record(repo, event, payload)
        deliveries = []
        for hook in [only] if only is not None else self.hooks_for(repo, event):
            # A hook on every repository stands for an organization's hook.
            owner = self.store.users.get(repo.owner)
            if hook in self.store.global_hooks and owner is not None:
                target_type, target_id = "organization", owner.id
            else:
                target_type, target_id = "repository", repo.id
            headers = {
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-GitHub-Event": event,
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-GitHub-Hook-ID": str(hook.id),
                "X-GitHub-Hook-Installation-Target-Type": target_type,
                "X-GitHub-Hook-Installation-Target-ID": str(target_id),
            }
            if hook.secret:
                headers["X-Hub-Signature-256"] = signature(hook.secret, body)
            delivery = Delivery(
                id=headers["X-GitHub-Delivery"],
                hook_id=hook.id,
                url=hook.url,
                event=event,
                action=payload.get("action"),
                repo=repo.full_name,
                payload=payload,
                body=body,
                headers=headers,
                created_at=now_iso(),
            )
            with self._changed:
                self.log.append(delivery)
            self._schedule(delivery)
            deliveries.append(delivery)
        return deliveries

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a logged delivery again with the same GUID and body (GitHub's "Redeliver")."""
        with self._changed:
            original = next((d for d in self.log if d.id == delivery_id), None)
        if original is None:
            raise KeyError(delivery_id)
        again = Delivery(
            id=original.id,
            hook_id=original.hook_id,
            url=original.url,
            event=original.event,
            action=original.action,
            repo=original.repo,
            payload=original.payload,
            body=original.body,
            headers=dict(original.headers),
            created_at=now_iso(),
            redelivery=True,
        )
        with self._changed:
            self.log.append(again)
        self._schedule(again)
        return again

    def _schedule(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        async with self._order.setdefault(delivery.hook_id, asyncio.Lock()):
            await self._post(delivery)

    async def _post(self, delivery: Delivery) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        delivery.attempts += 1
        try:
            async with self._session.post(delivery.url, data=delivery.body, headers=delivery.headers) as response:
                delivery.status = response.status
                delivery.response = (await response.text())[:2000]
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        finally:
            traffic.publish(
                traffic.Exchange(
                    kind="delivery",
                    method="POST",
                    path=delivery.url,
                    route="",
                    status=delivery.status or 0,
                    headers=dict(delivery.headers),
                    body=delivery.body,
                )
            )
            with self._changed:
                delivery.done = True
                self._changed.notify_all()

    def completed(self, event: str | None = None, action: str | None = None) -> list[Delivery]:
        with self._changed:
            return [
                d
                for d in self.log
                if d.done and (event is None or d.event == event) and (action is None or d.action == action)
            ]

    def wait(
        self, count: int = 1, *, event: str | None = None, action: str | None = None, timeout: float = 30.0
    ) -> list[Delivery]:
        """Block (from another thread) until `count` matching deliveries finished; returns them all."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.completed(event, action)) >= count, timeout)
            return self.completed(event, action)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self._session is not None:
            await self._session.close()
            self._session = None
