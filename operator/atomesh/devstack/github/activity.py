"""The activity behind the repository events API (`activity/list-repo-events`, served by repo_events.py).

GitHub's events API is fed by the same activity as webhooks but in its own shapes: an `event` has a
string `id`, a `type` (IssuesEvent, IssueCommentEvent, PullRequestEvent, PushEvent, ...), an `actor`,
the `repo` as {id, name, url} and a `payload` that is not the webhook's: no `repository` or `sender`,
a pull request only as `pull-request-minimal`, and a push without its commits (`push-event`: ref, head,
before). The emulator records one event for each webhook event it emits of the types below, newest
first, at most `KEPT` per repository (GitHub keeps 300). Answers carry `X-Poll-Interval` (seconds a
poller should wait) and, through the app's ETag middleware, an ETag: `If-None-Match` gets 304.

Not emulated, and refused by omission as on GitHub: events of other types (check runs and suites are
not in GitHub's events API at all), and the API's delay (GitHub's note: 30 s to 6 h; here none).
"""

from __future__ import annotations

import threading
import zlib
from collections import deque
from typing import Any

from .store import Repo, Store, now_iso

Json = dict[str, Any]
KEPT = 300
POLL_INTERVAL = 60  # GitHub's usual X-Poll-Interval
# Webhook event -> events API type, for the events the emulator emits and GitHub lists.
TYPES = {
    "issues": "IssuesEvent",
    "issue_comment": "IssueCommentEvent",
    "pull_request": "PullRequestEvent",
    "push": "PushEvent",
}


def _actor(user: Any) -> Json | None:
    if not isinstance(user, dict) or "login" not in user:
        return None
    return {
        "id": user["id"],
        "login": user["login"],
        "display_login": user["login"],
        "gravatar_id": user.get("gravatar_id", ""),
        "url": user["url"],
        "avatar_url": user["avatar_url"],
    }


def _minimal_side(side: Json) -> Json:
    repo = side.get("repo") or {}
    return {
        "ref": side["ref"],
        "sha": side["sha"],
        "repo": {"id": repo["id"], "url": repo["url"], "name": repo["name"]},
    }


def _payload(event: str, webhook: Json) -> Json:
    """The events API payload of a webhook payload (see the module docstring for how they differ)."""
    if event == "push":
        return {
            "repository_id": webhook["repository"]["id"],
            "push_id": zlib.crc32(f"{webhook['ref']}:{webhook['after']}".encode()),
            "ref": webhook["ref"],
            "head": webhook["after"],
            "before": webhook["before"],
        }
    payload = {key: value for key, value in webhook.items() if key not in ("repository", "sender", "organization")}
    if event == "pull_request":
        pull = webhook["pull_request"]
        payload["pull_request"] = {
            "id": pull["id"],
            "number": pull["number"],
            "url": pull["url"],
            "head": _minimal_side(pull["head"]),
            "base": _minimal_side(pull["base"]),
        }
    return payload


class Activity:
    """Recorded events per repository (by repository id), newest first; thread-safe."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._events: dict[int, deque[Json]] = {}
        self.poll_interval = POLL_INTERVAL

    def record(self, repo: Repo, event: str, webhook: Json) -> None:
        kind = TYPES.get(event)
        actor = _actor(webhook.get("sender"))
        if kind is None or actor is None or "repository" not in webhook:
            return
        repository = webhook["repository"]
        item: Json = {
            "id": str(self._store.new_id() + 10**10),  # GitHub's event ids are large numbers, as strings
            "type": kind,
            "actor": actor,
            "repo": {"id": repo.id, "name": repo.full_name, "url": repository["url"]},
            "payload": _payload(event, webhook),
            "public": not repo.private,
            "created_at": now_iso(),
        }
        owner = repository.get("owner") or {}
        if owner.get("type") == "Organization":
            item["org"] = _actor(owner)
        with self._lock:
            self._events.setdefault(repo.id, deque(maxlen=KEPT)).appendleft(item)

    def events(self, repo: Repo) -> list[Json]:
        with self._lock:
            return list(self._events.get(repo.id, ()))
