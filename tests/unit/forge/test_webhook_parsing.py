"""Signing, verification and parsing of GitHub webhooks (pure, no I/O)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atomesh.forge import webhook


def pull_request_payload(action: str = "closed", merged: bool = True) -> dict[str, Any]:
    return {
        "action": action,
        "number": 7,
        "pull_request": {
            "number": 7,
            "state": "closed" if action == "closed" else "open",
            "merged": merged,
            "merged_by": {"login": "reviewer"} if merged else None,
            "merged_at": "2025-01-02T03:04:05Z" if merged else None,
            "merge_commit_sha": "a" * 40 if merged else None,
            "closed_at": "2025-01-02T03:04:05Z",
            "head": {"ref": "atomesh/docs/run-1", "sha": "b" * 40},
            "base": {"ref": "main", "sha": "c" * 40},
        },
        "repository": {"full_name": "demo/sample-app"},
        "sender": {"login": "reviewer"},
    }


def test_sign_matches_githubs_documented_example() -> None:
    # From GitHub's "Validating webhook deliveries" documentation.
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert webhook.sign("It's a Secret to Everybody", b"Hello, World!") == expected


@given(secret=st.text(min_size=1), body=st.binary())
def test_verify_accepts_exactly_its_own_signature(secret: str, body: bytes) -> None:
    signature = webhook.sign(secret, body)
    assert webhook.verify(secret, body, signature)
    assert not webhook.verify(secret + "x", body, signature)
    assert not webhook.verify(secret, body + b"x", signature)


@pytest.mark.parametrize("header", [None, "", "sha1=abc", "sha256=", "sha256=" + "0" * 64])
def test_verify_rejects_missing_or_malformed_signatures(header: str | None) -> None:
    assert not webhook.verify("secret", b"{}", header)


def test_an_empty_secret_never_verifies() -> None:
    assert not webhook.verify("", b"{}", webhook.sign("", b"{}"))


def test_merged_pull_request() -> None:
    event = webhook.parse("pull_request", json.dumps(pull_request_payload()).encode(), delivery="d-1")
    assert event == webhook.PullRequestEvent(
        delivery="d-1",
        action="closed",
        repo="demo/sample-app",
        number=7,
        sender="reviewer",
        state="closed",
        merged=True,
        head_branch="atomesh/docs/run-1",
        head_sha="b" * 40,
        base_branch="main",
        merged_by="reviewer",
        merged_at="2025-01-02T03:04:05Z",
        merge_commit_sha="a" * 40,
        closed_at="2025-01-02T03:04:05Z",
    )


def test_closed_without_merge() -> None:
    event = webhook.parse("pull_request", pull_request_payload(merged=False))
    assert isinstance(event, webhook.PullRequestEvent)
    assert (event.merged, event.merged_by, event.merge_commit_sha) == (False, None, None)


def test_review_states_are_normalised_to_the_rest_spelling() -> None:
    payload = {
        "action": "submitted",
        "review": {"id": 5, "state": "changes_requested", "body": None, "submitted_at": "2025-01-01T00:00:00Z"},
        "pull_request": {"number": 7, "head": {"ref": "atomesh/x"}},
        "repository": {"full_name": "demo/sample-app"},
        "sender": {"login": "reviewer"},
    }
    event = webhook.parse("pull_request_review", payload)
    assert isinstance(event, webhook.ReviewEvent)
    assert (event.verdict, event.body, event.review_id, event.number) == ("CHANGES_REQUESTED", "", 5, 7)


def test_comment_on_an_issue_is_not_a_pull_request_comment() -> None:
    payload = {
        "action": "created",
        "issue": {"number": 3},
        "comment": {"id": 9, "body": "hello", "created_at": "2025-01-01T00:00:00Z"},
        "repository": {"full_name": "demo/sample-app"},
        "sender": {"login": "outsider"},
    }
    event = webhook.parse("issue_comment", payload)
    assert isinstance(event, webhook.CommentEvent)
    assert (event.on_pull_request, event.sender, event.body) == (False, "outsider", "hello")


def test_other_events_parse_to_none() -> None:
    assert webhook.parse("ping", {"zen": "Keep it logically awesome."}) is None
    assert webhook.parse("push", b"not even json") is None


def test_malformed_payloads_name_the_field() -> None:
    payload = pull_request_payload()
    del payload["pull_request"]["head"]
    with pytest.raises(webhook.WebhookPayloadError, match=r"pull_request\.head\.ref"):
        webhook.parse("pull_request", payload)
    with pytest.raises(webhook.WebhookPayloadError, match="not JSON"):
        webhook.parse("pull_request", b"{")


def test_parse_request_verifies_before_parsing() -> None:
    body = json.dumps(pull_request_payload(action="opened", merged=False)).encode()
    headers = {
        "x-github-event": "pull_request",
        "x-github-delivery": "d-2",
        "x-hub-signature-256": webhook.sign("s", body),
    }
    event = webhook.parse_request(headers, body, "s")
    assert isinstance(event, webhook.PullRequestEvent)
    assert event.delivery == "d-2"
    with pytest.raises(PermissionError, match="X-Hub-Signature-256"):
        webhook.parse_request({**headers, "x-hub-signature-256": webhook.sign("t", body)}, body, "s")
