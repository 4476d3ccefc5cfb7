"""GitHub webhooks: HMAC signatures and the few events the review loop acts on.

    if not verify(secret, body, headers.get(SIGNATURE_HEADER)):
        return 401
    event = parse(headers[EVENT_HEADER], body, delivery=headers.get(DELIVERY_HEADER, ""))

`parse` turns `pull_request`, `pull_request_review` and `issue_comment` payloads into small
frozen dataclasses; every other event (ping, push, ...) parses to None, so a handler can
acknowledge it and move on. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .protocol import ReviewVerdict

SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
EVENT_HEADER: Final = "X-GitHub-Event"
DELIVERY_HEADER: Final = "X-GitHub-Delivery"
SIGNATURE_PREFIX: Final = "sha256="


class WebhookPayloadError(ValueError):
    """A payload that does not have the shape GitHub sends; the message names the field."""


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign(secret: str | bytes, body: bytes) -> str:
    """The `X-Hub-Signature-256` header value for `body`: `sha256=<hex HMAC>`."""
    return SIGNATURE_PREFIX + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, signature_header: str | None) -> bool:
    """True only when the header is the HMAC of the exact raw body under `secret` (constant-time).

    An empty secret never verifies: an unconfigured secret must not accept everything.
    """
    if not secret or not signature_header or not signature_header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), signature_header.strip().encode())


@dataclass(frozen=True)
class PullRequestEvent:
    """`pull_request`: opened, edited, synchronize, closed (merged or not), reopened, ..."""

    delivery: str
    action: str
    repo: str
    number: int
    sender: str
    state: str
    merged: bool
    head_branch: str
    head_sha: str
    base_branch: str
    merged_by: str | None = None
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    closed_at: str | None = None


@dataclass(frozen=True)
class ReviewEvent:
    """`pull_request_review`: a review submitted (or edited/dismissed) on a pull request."""

    delivery: str
    action: str
    repo: str
    number: int
    sender: str
    review_id: int
    verdict: ReviewVerdict
    body: str
    submitted_at: str | None
    head_branch: str
    commit_id: str | None = None


@dataclass(frozen=True)
class CommentEvent:
    """`issue_comment` on a pull request's conversation (comments on plain issues are not pull requests)."""

    delivery: str
    action: str
    repo: str
    number: int
    sender: str
    comment_id: int
    body: str
    created_at: str | None
    on_pull_request: bool


WebhookEvent = PullRequestEvent | ReviewEvent | CommentEvent
EVENTS: Final = ("pull_request", "pull_request_review", "issue_comment")


def _get(payload: Mapping[str, Any], path: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    value: Any = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise WebhookPayloadError(f"webhook payload field {path!r} is missing or not {getattr(kind, '__name__', kind)}")
    return value


def _verdict(state: str) -> ReviewVerdict:
    # Webhooks spell review states in lower case; the REST API in upper case.
    verdicts: dict[str, ReviewVerdict] = {
        "approved": "APPROVED",
        "changes_requested": "CHANGES_REQUESTED",
        "commented": "COMMENTED",
        "dismissed": "DISMISSED",
        "pending": "PENDING",
    }
    verdict = verdicts.get(state.lower())
    if verdict is None:
        raise WebhookPayloadError(f"webhook payload field 'review.state' has unknown value {state!r}")
    return verdict


def parse(event: str, payload: bytes | str | Mapping[str, Any], delivery: str = "") -> WebhookEvent | None:
    """The typed event for `pull_request`, `pull_request_review` and `issue_comment`; None for others."""
    if event not in EVENTS:
        return None
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise WebhookPayloadError(f"webhook body is not JSON: {exc}") from None
    if not isinstance(payload, Mapping):
        raise WebhookPayloadError("webhook body must be a JSON object")
    common = {
        "delivery": delivery,
        "action": _get(payload, "action", str),
        "repo": _get(payload, "repository.full_name", str),
        "sender": _get(payload, "sender.login", str),
    }
    if event == "pull_request":
        return PullRequestEvent(
            **common,
            number=_get(payload, "pull_request.number", int),
            state=_get(payload, "pull_request.state", str),
            merged=bool(_get(payload, "pull_request.merged", bool, optional=True)),
            head_branch=_get(payload, "pull_request.head.ref", str),
            head_sha=_get(payload, "pull_request.head.sha", str),
            base_branch=_get(payload, "pull_request.base.ref", str),
            merged_by=_get(payload, "pull_request.merged_by.login", str, optional=True),
            merged_at=_get(payload, "pull_request.merged_at", str, optional=True),
            merge_commit_sha=_get(payload, "pull_request.merge_commit_sha", str, optional=True),
            closed_at=_get(payload, "pull_request.closed_at", str, optional=True),
        )
    if event == "pull_request_review":
        return ReviewEvent(
            **common,
            number=_get(payload, "pull_request.number", int),
            review_id=_get(payload, "review.id", int),
            verdict=_verdict(_get(payload, "review.state", str)),
            body=_get(payload, "review.body", str, optional=True) or "",
            submitted_at=_get(payload, "review.submitted_at", str, optional=True),
            head_branch=_get(payload, "pull_request.head.ref", str),
            commit_id=_get(payload, "review.commit_id", str, optional=True),
        )
    return CommentEvent(
        **common,
        number=_get(payload, "issue.number", int),
        comment_id=_get(payload, "comment.id", int),
        body=_get(payload, "comment.body", str, optional=True) or "",
        created_at=_get(payload, "comment.created_at", str, optional=True),
        on_pull_request=isinstance(_get(payload, "issue.pull_request", dict, optional=True), dict),
    )


def parse_request(headers: Mapping[str, str], body: bytes, secret: str | bytes) -> WebhookEvent | None:
    """Verify then parse one delivery; raises PermissionError when the signature is missing or wrong."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if not verify(secret, body, lowered.get(SIGNATURE_HEADER.lower())):
        raise PermissionError(f"webhook signature ({SIGNATURE_HEADER}) is missing or does not match the secret")
    return parse(lowered.get(EVENT_HEADER.lower(), ""), body, delivery=lowered.get(DELIVERY_HEADER.lower(), ""))
