"""The review loop's decisions end to end, driven by people acting on the GitHub emulator through
its REST API and the emulator's signed webhooks reaching the operator (polling is only the
30 s fallback here): request changes → a revision on the same branch and pull request; close →
Rejected; maxRevisions → Rejected and the pull request closed; forged and repeated deliveries."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from atomesh.devstack.github import Delivery
from atomesh.forge.webhook import sign
from atomesh.review import parse_provenance
from tests.e2e.review.conftest import WEBHOOK_SECRET, ReviewStack, RunningOperator, edit_turns

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]


def guide(name: str, extra: str = "") -> dict[str, str]:
    return {f"docs/{name}.md": f"# {name}\n\nHow to greet people.\n{extra}"}


def test_changes_requested_by_a_writer_revise_the_same_pull_request(review_stack: ReviewStack) -> None:
    stack = review_stack
    first = guide(stack.namespace)
    second = guide(stack.namespace, '\n## Examples\n\n`greet("Ada")` says hello.\n')
    stack.script(edit_turns(first, "Added a guide."), edit_turns(second, "Added examples."))
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide", topic="greetings")
    status = stack.awaiting_review("guide-1")
    number, branch = status["review"]["number"], status["artifact"]["branch"]

    # Someone with read access asks for changes first: this must never drive a revision.
    stack.pull(number, stack.github.outsider_token).create_review(
        body="OUTSIDER: rewrite everything", event="REQUEST_CHANGES"
    )
    stack.pull(number).create_review(body="Please add an example.", event="REQUEST_CHANGES")

    root = stack.wait_until(
        "guide-1 to hand the feedback to a revision run",
        lambda: (s := stack.run("guide-1")["status"])["review"].get("revisionRun") and s,
    )
    assert root["phase"] == "AwaitingReview"
    assert root["review"]["state"] == "changesRequested"
    assert root["review"]["decidedBy"] == stack.github.reviewer
    assert root["review"]["revisionRun"] == "guide-1-r1"
    revision = stack.run("guide-1-r1")
    assert revision["spec"]["revisionOf"] == "guide-1"
    assert revision["spec"]["trigger"]["kind"] == "revision"
    feedback = revision["spec"]["feedback"]
    assert {item["author"] for item in feedback} == {stack.github.reviewer}
    assert any("Please add an example." in item["body"] for item in feedback)
    assert not any("OUTSIDER" in item["body"] for item in feedback)

    revised = stack.awaiting_review("guide-1-r1")
    assert revised["artifact"]["branch"] == branch
    assert revised["review"]["number"] == number
    assert revised["review"]["revision"] == 1
    pull = stack.pull(number)
    assert pull.head.ref == branch
    assert pull.head.sha == revised["artifact"]["commit"] != status["artifact"]["commit"]
    assert pull.commits == 2
    provenance = parse_provenance(pull.body or "")
    assert provenance is not None
    assert (provenance["run"], provenance["revision"]) == ("guide-1-r1", 1)
    assert "Revision history" in (pull.body or "")
    assert len(stack.repo().get_pulls(state="all", head=f"demo:{branch}").get_page(0)) == 1
    assert stack.model is not None
    assert any("Please add an example." in request.last_user_text for request in stack.model.requests), (
        "the revision's harness was not given the reviewer's feedback"
    )

    assert pull.merge().merged
    assert stack.finished("guide-1-r1")["phase"] == "Succeeded"
    root = stack.finished("guide-1")
    assert root["phase"] == "Succeeded"
    assert root["review"]["state"] == "merged"
    assert sorted(run["metadata"]["name"] for run in stack.runs()) == ["guide-1", "guide-1-r1"]
    stack.assert_no_secrets()


@pytest.mark.parametrize("harness", ["litellm", "claude-code", "opencode"])
def test_a_revision_that_changes_nothing_hands_the_pull_request_back(
    review_stack: ReviewStack, harness: str, request: pytest.FixtureRequest
) -> None:
    """request changes → a revision that changes nothing → a comment on the pull request → a second
    request → a revision with a change → merge → Succeeded, with each harness CLI playing the same
    script (the emulator spells the generic tools the way each harness does)."""
    if harness != "litellm":
        request.getfixturevalue({"claude-code": "claude_cli", "opencode": "opencode_cli"}[harness])
    stack = review_stack
    first = guide(stack.namespace)
    second = guide(stack.namespace, "\n## Examples\n\nSay hello.\n")
    nothing = [{"text": "The guide already covers this.", "usage": {"input_tokens": 500, "output_tokens": 10}}]
    # Claude Code's Write refuses to overwrite a file it has not read in the session: read it first.
    read = [{"tools": [{"tool": "read_file", "input": {"path": path}} for path in second]}]
    stack.script(edit_turns(first, "Added a guide."), nothing, read + edit_turns(second, "Added examples."))
    agent = stack.agent("guide", "doc", ["docs/**"])
    if harness != "litellm":
        agent["spec"]["harness"]["kind"] = harness
        stack.apply(agent)
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1", timeout=150)["review"]["number"]

    stack.pull(number).create_review(body="Please add an example.", event="REQUEST_CHANGES")
    assert stack.finished("guide-1-r1")["reason"] == "NoChanges"
    root = stack.wait_until(
        "guide-1 to get the pull request back",
        lambda: (s := stack.run("guide-1")["status"])["reason"] == "RevisionEndedWithoutChange" and s,
    )
    assert root["phase"] == "AwaitingReview"
    assert "revisionRun" not in root["review"]
    assert root["review"]["revision"] == 1
    comments = [comment.body for comment in stack.pull(number).get_issue_comments()]
    assert any("revision guide-1-r1 made no change" in body for body in comments), comments
    assert any("The guide already covers this." in body for body in comments), "the comment lacks the agent's summary"

    stack.pull(number).create_review(body="Still no example: please add one.", event="REQUEST_CHANGES")
    revised = stack.awaiting_review("guide-1-r2", timeout=150)
    assert revised["review"]["number"] == number
    assert revised["review"]["revision"] == 2
    assert stack.pull(number).merge().merged
    assert stack.finished("guide-1")["phase"] == "Succeeded"
    assert stack.finished("guide-1-r2")["phase"] == "Succeeded"
    assert sorted(run["metadata"]["name"] for run in stack.runs()) == ["guide-1", "guide-1-r1", "guide-1-r2"]
    assert stack.model is not None
    assert {request.harness for request in stack.model.requests if request.turn is not None} == {harness}
    stack.assert_no_secrets()


def test_closed_pull_request_rejects_the_run(review_stack: ReviewStack) -> None:
    stack = review_stack
    stack.script(edit_turns(guide(stack.namespace), "Added a guide."))
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]

    stack.pull(number).edit(state="closed")

    final = stack.finished("guide-1")
    assert final["phase"] == "Rejected"
    assert final["reason"] == "Closed"
    assert final["review"]["state"] == "closed"
    assert final["review"]["decidedBy"] == stack.github.reviewer
    assert stack.event_count("guide-1", "Closed") == 1
    assert [run["metadata"]["name"] for run in stack.runs()] == ["guide-1"]
    stack.assert_no_secrets()


def test_max_revisions_reached_rejects_and_closes_the_pull_request(review_stack: ReviewStack) -> None:
    stack = review_stack
    stack.script(edit_turns(guide(stack.namespace), "Added a guide."))
    stack.agent("guide", "doc", ["docs/**"], review={"maxRevisions": 0})
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]

    stack.pull(number).create_review(body="Not like this.", event="REQUEST_CHANGES")

    final = stack.finished("guide-1")
    assert final["phase"] == "Rejected"
    assert final["reason"] == "MaxRevisionsReached"
    assert final["review"]["decidedBy"] == stack.github.reviewer
    pull = stack.pull(number)
    assert pull.state == "closed"
    assert not pull.merged
    assert any("maxRevisions" in comment.body for comment in pull.get_issue_comments())
    assert [run["metadata"]["name"] for run in stack.runs()] == ["guide-1"]
    stack.assert_no_secrets()


def test_auto_merge_when_checks_pass(review_stack: ReviewStack) -> None:
    stack = review_stack
    stack.script(edit_turns(guide(stack.namespace), "Added a guide."))
    checks = [{"name": "guide-exists", "run": f"test -f docs/{stack.namespace}.md"}]
    stack.agent("guide", "doc", ["docs/**"], review={"autoMerge": "whenChecksPass", "checks": checks})
    stack.start_run("guide-1", "guide")

    final = stack.finished("guide-1", timeout=90)
    assert final["phase"] == "Succeeded", final.get("message")
    assert final["review"]["state"] == "merged"
    assert final["review"]["decidedBy"] == "atomesh"
    pull = stack.pull(final["review"]["number"])
    assert pull.merged
    assert pull.merged_by.login == stack.github.bot
    assert final["review"]["mergeCommit"] == pull.merge_commit_sha
    stack.assert_no_secrets()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_webhook_signatures_and_redeliveries(review_stack: ReviewStack, review_operator: RunningOperator) -> None:
    stack, hook_url = review_stack, review_operator.webhook_url
    stack.script(edit_turns(guide(stack.namespace), "Added a guide."))
    stack.agent("guide", "doc", ["docs/**"])
    stack.start_run("guide-1", "guide")
    number = stack.awaiting_review("guide-1")["review"]["number"]

    # A forged "merged" event: right shape, wrong or missing signature.
    payload = {
        "action": "closed",
        "repository": {"full_name": stack.repo_name},
        "sender": {"login": "mallory"},
        "pull_request": {
            "number": number,
            "state": "closed",
            "merged": True,
            "head": {"ref": "x", "sha": "0" * 40},
            "base": {"ref": "main"},
        },
    }
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "forged-1"}
    assert post(hook_url, body, {**headers, "X-Hub-Signature-256": sign("not-the-secret", body)}) == 401
    assert post(hook_url, body, headers) == 401
    assert post(hook_url, body + b" ", {**headers, "X-Hub-Signature-256": sign(WEBHOOK_SECRET, body)}) == 401

    stack.pull(number).merge()
    final = stack.finished("guide-1")
    assert final["phase"] == "Succeeded"
    assert final["review"]["decidedBy"] == stack.github.reviewer  # not the forger

    def merged_delivery() -> Delivery | None:
        found = [
            d
            for d in stack.github.deliveries("pull_request", "closed")
            if d.url == hook_url and d.payload["pull_request"]["number"] == number and not d.redelivery
        ]
        return found[0] if found else None

    delivery = stack.wait_until("the merge's webhook delivery", merged_delivery)
    assert delivery.status == 202, delivery.response
    again = stack.github.emulator.redeliver(delivery.id)
    stack.wait_until("the redelivery to be answered", lambda: again.done)
    assert again.status == 200, again.response
    assert "duplicate" in again.response
    assert stack.event_count("guide-1", "Merged") == 1
    stack.assert_no_secrets()
