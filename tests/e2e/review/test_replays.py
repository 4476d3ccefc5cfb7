"""Replayed review deliveries on the development stack: a captured, correctly signed
`pull_request_review` delivery sent again under a new X-GitHub-Delivery id is accepted as a new
delivery (GitHub's signature covers the body, not the id) and wakes the runs on its pull request, yet
starts no second revision: what a review means is read from the forge, review by review."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from atomesh.devstack.github import traffic
from atomesh.devstack.github.traffic import Exchange
from tests.e2e.review.conftest import ReviewStack, RunningOperator, edit_turns

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status), json.loads(response.read())


def test_a_review_delivery_replayed_under_a_new_id_starts_no_second_revision(
    review_stack: ReviewStack, review_operator: RunningOperator
) -> None:
    stack, hook_url = review_stack, review_operator.webhook_url
    doc = {f"docs/{stack.namespace}.md": "# Greetings\n\nHello.\n"}
    revised = {f"docs/{stack.namespace}.md": "# Greetings\n\nHello, and an example.\n"}
    stack.script(edit_turns(doc, "Added a guide."), edit_turns(revised, "Added an example."))
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]
    stack.pull(number).create_review(body="Please add an example.", event="REQUEST_CHANGES")
    assert stack.awaiting_review("guide-1-r1")["review"]["revision"] == 1

    [captured] = [
        delivery
        for delivery in stack.github.deliveries("pull_request_review", "submitted")
        if delivery.url == hook_url and delivery.payload["pull_request"]["number"] == number
    ]
    headers = {key: value for key, value in captured.headers.items() if key.lower() != "x-github-delivery"}
    looks: list[Exchange] = []
    reviews_path = f"/repos/{stack.repo_name}/pulls/{number}/reviews"
    stop = traffic.subscribe(lambda e: looks.append(e) if e.method == "GET" and e.path == reviews_path else None)
    try:
        status, answer = post(hook_url, captured.body, {**headers, "X-GitHub-Delivery": "replayed-" + captured.id})
        assert (status, answer["message"]) == (202, "accepted"), answer  # a new id is a new delivery...
        assert answer["queued"] == 2  # ...that wakes both runs on the pull request
        stack.wait_until("both runs to look at the reviews again", lambda: len(looks) >= 2)
    finally:
        stop()

    assert sorted(run["metadata"]["name"] for run in stack.runs()) == ["guide-1", "guide-1-r1"]
    root = stack.run("guide-1")["status"]
    assert (root["phase"], root["review"]["revisionRun"]) == ("AwaitingReview", "guide-1-r1")
    assert stack.run("guide-1-r1")["status"]["phase"] == "AwaitingReview"
    assert stack.event_count("guide-1", "ChangesRequested") == 1
    assert stack.pull(number).merge().merged
    assert stack.finished("guide-1")["phase"] == "Succeeded"
    assert sorted(run["metadata"]["name"] for run in stack.runs()) == ["guide-1", "guide-1-r1"]
    stack.assert_no_secrets()
