"""Polling GitHub's repository events API instead of receiving webhooks: which events it can serve,
how one becomes the same `EventDelivery` a webhook would be, and which of a page's events are new.

GitHub's events API (`GET /repos/{owner}/{repo}/events`) lists IssuesEvent, IssueCommentEvent,
PullRequestEvent and PushEvent among others, in payloads of its own: no `repository` or `sender`
(the event's `repo` and `actor` stand for them), a pull request only as `pull-request-minimal` (no
labels, title or author association), a push without its commits. It has no check_run or check_suite
events at all, and it is not real time (GitHub documents 30 s to 6 h of latency).

Invariants:
- `delivery_of` fills in what triggers read (`repository.full_name`, `sender.login`, a push's `after`),
  never invents what the API lacks: a trigger narrowing on a push's `paths` or a pull request's
  `labels` matches no polled event, and check triggers are served by webhooks only (`UNPOLLABLE`).
- `reported_identity` names what a delivery reports (an issue's action at a version, a pull request's
  action at a head commit, a push by its before and after, a comment at a version) from fields the
  webhook and the polled payload share, so a delivery seen by both asks for the same run name.
- `fresh_events` returns the events after the cursor, oldest first; on the first poll (no cursor)
  only those created within `replay` seconds before the poller started, so a restarted operator
  catches up on recent events (their run names deduplicate) without replaying the repository's history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from atomesh.core.schedule import parse_rfc3339
from atomesh.core.triggers_github import BOT_SUFFIX

# events API type -> the webhook event triggers know it as
POLLED_TYPES = {
    "IssuesEvent": "issues",
    "IssueCommentEvent": "issue_comment",
    "PullRequestEvent": "pull_request",
    "PushEvent": "push",
}
UNPOLLABLE = ("check_run", "check_suite")
# GitHub keeps 300 events per repository: three pages of 100.
PER_PAGE = 100
MAX_PAGES = 3
_COMMENTS = {"issue_comment": "comment", "pull_request_review_comment": "comment", "pull_request_review": "review"}


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def reported_identity(event: str, payload: Mapping[str, Any]) -> str | None:
    """What a GitHub delivery reports, the same whether it came by webhook or by poll; None when its
    payload lacks the fields (the delivery id then names it)."""
    action = str(payload.get("action") or "")
    label = str(_get(payload, "label.name") or "")
    if event in _COMMENTS:
        reported = payload.get(_COMMENTS[event])
        if isinstance(reported, Mapping) and reported.get("id") is not None:
            version = reported.get("updated_at") or reported.get("submitted_at") or ""
            return f"{event}/{reported['id']}/{version}"
        return None
    if event == "issues" and _get(payload, "issue.id") is not None and _get(payload, "issue.updated_at"):
        return f"issues/{_get(payload, 'issue.id')}/{action}/{label}/{_get(payload, 'issue.updated_at')}"
    if (
        event == "pull_request"
        and _get(payload, "pull_request.id") is not None
        and _get(payload, "pull_request.head.sha")
    ):
        return (
            f"pull_request/{_get(payload, 'pull_request.id')}/{action}/{label}/{_get(payload, 'pull_request.head.sha')}"
        )
    if event == "push" and payload.get("ref") and payload.get("before") and payload.get("after"):
        return f"push/{payload['ref']}/{payload['before']}/{payload['after']}"
    return None


def delivery_payload(event: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(webhook event name, delivery id, payload) of one events API event, or None for a type triggers
    cannot use."""
    name = POLLED_TYPES.get(str(event.get("type") or ""))
    payload = event.get("payload")
    login = _get(event, "actor.login")
    repo = _get(event, "repo.name")
    if name is None or not isinstance(payload, Mapping) or not isinstance(login, str) or not isinstance(repo, str):
        return None
    filled = dict(payload)
    filled["repository"] = {"id": _get(event, "repo.id"), "full_name": repo}
    filled["sender"] = {"login": login, "type": "Bot" if login.endswith(BOT_SUFFIX) else "User"}
    if name == "push":
        filled.setdefault("after", payload.get("head"))
    return name, f"event-{event.get('id')}", filled


def _number(event_id: Any) -> int:
    try:
        return int(str(event_id))
    except ValueError:
        return -1


def fresh_events(
    events: Sequence[Mapping[str, Any]], cursor: str | None, started: datetime, replay: float
) -> list[Mapping[str, Any]]:
    """The events after `cursor` (GitHub's ids grow), oldest first; see the module docstring."""
    if cursor is not None:
        after = _number(cursor)
        fresh = [event for event in events if _number(event.get("id")) > after]
    else:
        since = started - timedelta(seconds=replay)
        fresh = [event for event in events if (parse_rfc3339(event.get("created_at")) or since) > since]
    return sorted(fresh, key=lambda event: _number(event.get("id")))


def newest_id(events: Sequence[Mapping[str, Any]], cursor: str | None) -> str | None:
    ids = [_number(event.get("id")) for event in events]
    best = max([*ids, _number(cursor) if cursor is not None else -1])
    return str(best) if best >= 0 else cursor


def reached(events: Sequence[Mapping[str, Any]], cursor: str | None) -> bool:
    """Whether a page goes back to the cursor (no older page is needed)."""
    return cursor is None or any(_number(event.get("id")) <= _number(cursor) for event in events)


def next_interval(floor: float, poll_interval_header: str | None) -> float:
    """Seconds until the next poll: GitHub's X-Poll-Interval, never less than the operator's floor."""
    try:
        asked = float(poll_interval_header) if poll_interval_header else 0.0
    except ValueError:
        asked = 0.0
    return max(floor, asked)
