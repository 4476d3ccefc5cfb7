"""The event trigger planner: matching, filters, input mapping, authorisation, names and provenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.triggers import EventRateLimit, TriggerAuthorization
from atomesh.core.triggers import (
    ConcurrencyDecision,
    EventDelivery,
    EventRun,
    WebhookTarget,
    decide_admission,
    decide_concurrency,
    plan_delivery,
    triggered_run_name,
    workspace_repository,
)
from atomesh.core.triggers_auth import authorise, needs_permission
from atomesh.core.triggers_github import read_command, read_facts
from atomesh.core.triggers_replies import due_replies, parse_thread

REPO = "demo/sample-app"
SCHEMA = {
    "type": "object",
    "required": ["issue"],
    "additionalProperties": False,
    "properties": {
        "issue": {"type": "integer", "minimum": 1},
        "summary": {"type": "string"},
        "dry": {"type": "boolean"},
    },
}


def triage(*events: dict[str, Any], name: str = "issue-triage", suspend: bool = False) -> tuple[str, Agent]:
    return (
        "team",
        Agent.model_validate(
            {
                "metadata": {"name": name, "namespace": "team"},
                "spec": {
                    "purpose": "Triage issues.",
                    "instructions": "Triage.",
                    "input": {"schema": SCHEMA},
                    "output": {"artifact": "doc"},
                    "workspace": {"repo": REPO},
                    "harness": {"model": "claude-sonnet-4-5"},
                    "suspend": suspend,
                    "triggers": {"events": list(events)},
                },
            }
        ),
    )


OPENED = {
    "name": "opened",
    "github": {"event": "issues", "actions": ["opened"]},
    "input": {"issue": "payload.issue.number", "summary": "payload.issue.title"},
    "authorization": {"permission": "none"},
}
COMMAND = {
    "name": "command",
    "github": {"event": "issue_comment", "command": "triage"},
    "input": {"issue": "payload.issue.number"},
}


def issue_payload(
    action: str = "opened", *, sender: str = "alice", labels: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {
            "number": 7,
            "title": "Crash on start",
            "html_url": f"https://github.example/{REPO}/issues/7",
            "author_association": "NONE",
            "labels": [{"name": label} for label in labels],
        },
        "repository": {"full_name": REPO},
        "sender": {"login": sender, "type": "User"},
        **extra,
    }


def comment_payload(body: str, *, sender: str = "maintainer", association: str = "COLLABORATOR") -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": 7, "title": "Crash on start"},
        "comment": {
            "id": 99,
            "body": body,
            "html_url": f"https://github.example/{REPO}/issues/7#issuecomment-99",
            "author_association": association,
        },
        "repository": {"full_name": REPO},
        "sender": {"login": sender, "type": "User"},
    }


def test_an_opened_issue_plans_one_run_with_its_input_and_provenance() -> None:
    delivery = EventDelivery("issues", "guid-1", issue_payload())
    [planned] = plan_delivery(delivery, [triage(OPENED, COMMAND)])
    assert planned.error == ""
    run = planned.run
    assert run is not None
    assert run["spec"]["input"] == {"issue": 7, "summary": "Crash on start"}
    assert run["spec"]["trigger"] == {"kind": "event", "source": f"https://github.example/{REPO}/issues/7"}
    assert run["metadata"]["name"] == triggered_run_name("issue-triage", "opened", "guid-1")
    assert run["metadata"]["labels"] == {
        k.LABEL_EVENT_TRIGGER: "opened",
        k.LABEL_EVENT: "issues",
        k.LABEL_EVENT_SUBJECT: planned.subject,
        k.LABEL_AGENT: "issue-triage",
        k.LABEL_TRIGGER: "event",
    }
    assert run["metadata"]["annotations"] == {
        k.ANNOTATION_DELIVERY: "guid-1",
        k.ANNOTATION_SENDER: "alice",
        k.ANNOTATION_SOURCE_URL: f"https://github.example/{REPO}/issues/7",
        k.ANNOTATION_REPLY_TO: f"{REPO}#7",
    }
    assert authorise(planned.authorization, planned.facts) is None


def test_the_run_name_is_the_delivery_so_a_redelivery_asks_for_the_same_run() -> None:
    first = plan_delivery(EventDelivery("issues", "guid-1", issue_payload()), [triage(OPENED)])
    again = plan_delivery(EventDelivery("issues", "guid-1", issue_payload()), [triage(OPENED)])
    other = plan_delivery(EventDelivery("issues", "guid-2", issue_payload()), [triage(OPENED)])
    assert first[0].run_name == again[0].run_name != other[0].run_name
    long_name = triggered_run_name("a" * 60, "t" * 40, "guid-1")
    assert len(long_name) <= 56
    assert long_name != triggered_run_name("a" * 60, "t" * 40, "guid-2")


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (issue_payload("closed"), "another action"),
        ({**issue_payload(), "repository": {"full_name": "someone/else"}}, "another repository"),
    ],
)
def test_deliveries_the_trigger_does_not_count_plan_nothing(payload: dict[str, Any], why: str) -> None:
    assert plan_delivery(EventDelivery("issues", "g", payload), [triage(OPENED)]) == [], why


def test_a_suspended_agent_is_not_triggered() -> None:
    assert plan_delivery(EventDelivery("issues", "g", issue_payload()), [triage(OPENED, suspend=True)]) == []


def test_labels_count_the_label_just_added_on_labeled() -> None:
    labeled = {**OPENED, "github": {"event": "issues", "actions": ["labeled"], "labels": ["bug"]}}
    bug = issue_payload("labeled", labels=("bug", "ui"), label={"name": "bug"})
    ui = issue_payload("labeled", labels=("bug", "ui"), label={"name": "ui"})
    assert len(plan_delivery(EventDelivery("issues", "g", bug), [triage(labeled)])) == 1
    assert plan_delivery(EventDelivery("issues", "g", ui), [triage(labeled)]) == []


def test_a_cel_filter_narrows_and_a_failing_one_is_reported_not_raised() -> None:
    wanted = {**OPENED, "filter": "payload.issue.title.startsWith('Crash')"}
    unwanted = {**OPENED, "filter": "payload.issue.title.startsWith('Docs')"}
    broken = {**OPENED, "filter": "payload.issue.milestone.title == 'v1'"}
    delivery = EventDelivery("issues", "g", issue_payload())
    assert len(plan_delivery(delivery, [triage(wanted)])) == 1
    assert plan_delivery(delivery, [triage(unwanted)]) == []
    [failed] = plan_delivery(delivery, [triage(broken)])
    assert failed.run is None
    assert "no such key: milestone" in failed.error
    assert failed.error.startswith("filter")


def test_a_failed_mapping_names_the_input_key_and_plans_no_run() -> None:
    missing = {**OPENED, "input": {"issue": "payload.issue.id"}}
    [planned] = plan_delivery(EventDelivery("issues", "g", issue_payload()), [triage(missing)])
    assert planned.run is None
    assert planned.error == "input 'issue': 'payload.issue.id': no such key: id"


def test_mapped_input_is_validated_against_the_agents_schema() -> None:
    wrong_type = {**OPENED, "input": {"issue": "payload.issue.title"}}
    [planned] = plan_delivery(EventDelivery("issues", "g", issue_payload()), [triage(wrong_type)])
    assert planned.run is None
    assert planned.error.startswith("input.issue: does not match the agent's input schema")


def test_slash_commands_address_an_agent_by_name_or_by_its_command_with_typed_arguments() -> None:
    for body in ("/atomesh issue-triage dry=true", "/triage dry=true\nplease look again"):
        [planned] = plan_delivery(EventDelivery("issue_comment", "g", comment_payload(body)), [triage(COMMAND)])
        assert planned.command
        assert planned.run is not None
        assert planned.run["spec"]["input"] == {"issue": 7, "dry": True}
    assert plan_delivery(EventDelivery("issue_comment", "g", comment_payload("looks good")), [triage(COMMAND)]) == []
    assert (
        plan_delivery(EventDelivery("issue_comment", "g", comment_payload("/atomesh other")), [triage(COMMAND)]) == []
    )


def test_a_bad_command_argument_is_an_error_naming_it() -> None:
    [planned] = plan_delivery(EventDelivery("issue_comment", "g", comment_payload("/triage now")), [triage(COMMAND)])
    assert planned.run is None
    assert planned.error == "argument 'now' is not key=value"
    [unknown] = plan_delivery(
        EventDelivery("issue_comment", "g", comment_payload("/triage colour=red")), [triage(COMMAND)]
    )
    assert unknown.run is None
    assert "colour" in unknown.error
    unclosed = read_command('/triage "unclosed', "issue-triage", "triage")
    assert unclosed is not None
    assert unclosed.error.startswith("cannot read the command")


def test_authorisation_defaults_to_write_access_and_ignores_bots() -> None:
    rule = TriggerAuthorization()
    writer = read_facts("issue_comment", comment_payload("/triage", association="NONE"))
    assert needs_permission(rule, writer)
    assert authorise(rule, writer, "write") is None
    assert authorise(rule, writer, "admin") is None
    refusal = authorise(rule, writer, "read")
    assert refusal is not None
    assert not refusal.quiet
    assert refusal.message == f"@maintainer needs write access to {REPO} (has read)"
    bot = read_facts("issue_comment", {**comment_payload("/triage"), "sender": {"login": "ci[bot]", "type": "Bot"}})
    quiet = authorise(rule, bot, "admin")
    assert quiet is not None
    assert quiet.quiet
    assert authorise(TriggerAuthorization(allow_bots=True), bot, "admin") is None


def test_associations_and_users_pass_without_a_permission_lookup() -> None:
    rule = TriggerAuthorization(author_associations=["OWNER", "COLLABORATOR"], users=["release-captain"])
    collaborator = read_facts("issue_comment", comment_payload("/triage", association="COLLABORATOR"))
    captain = read_facts("issue_comment", comment_payload("/triage", sender="release-captain", association="NONE"))
    assert not needs_permission(rule, collaborator)
    assert authorise(rule, collaborator) is None
    assert not needs_permission(rule, captain)
    assert authorise(rule, captain) is None


def test_push_branches_and_paths_are_globs_over_the_pushed_files() -> None:
    trigger = {
        "name": "pushed",
        "github": {"event": "push", "branches": ["release/*"], "paths": ["src/**/*.py"]},
        "input": {"issue": "1"},
        "authorization": {"permission": "none"},
    }

    def push(ref: str, files: list[str]) -> list[Any]:
        payload = {
            "ref": ref,
            "compare": "https://github.example/compare",
            "commits": [{"added": [], "modified": files, "removed": []}],
            "repository": {"full_name": REPO},
            "sender": {"login": "alice"},
        }
        return plan_delivery(EventDelivery("push", "g", payload), [triage(trigger)])

    assert len(push("refs/heads/release/1.2", ["src/app/main.py"])) == 1
    assert push("refs/heads/main", ["src/app/main.py"]) == []
    assert push("refs/heads/release/1.2", ["docs/index.md"]) == []
    assert push("refs/tags/release/1.2", ["src/app/main.py"]) == []


def test_check_runs_narrow_on_conclusion_and_reply_on_their_pull_request() -> None:
    trigger = {
        "name": "fix",
        "github": {"event": "check_run", "actions": ["completed"], "conclusions": ["failure"]},
        "input": {"issue": "payload.check_run.pull_requests[0].number"},
        "authorization": {"permission": "none"},
    }

    def check(conclusion: str) -> dict[str, Any]:
        return {
            "action": "completed",
            "check_run": {
                "conclusion": conclusion,
                "html_url": "https://github.example/runs/1",
                "check_suite": {"head_branch": "feature"},
                "pull_requests": [{"number": 12}],
            },
            "repository": {"full_name": REPO},
            "sender": {"login": "ci"},
        }

    [planned] = plan_delivery(EventDelivery("check_run", "g", check("failure")), [triage(trigger)])
    assert planned.run is not None
    assert planned.run["spec"]["input"] == {"issue": 12}
    assert planned.facts.thread is not None
    assert str(planned.facts.thread) == f"{REPO}#12"
    assert plan_delivery(EventDelivery("check_run", "g", check("success")), [triage(trigger)]) == []


def test_a_generic_webhook_reaches_only_the_trigger_its_path_names() -> None:
    hook = {
        "name": "crm",
        "webhook": {"secretRef": {"name": "crm", "key": "secret"}},
        "input": {"issue": "payload.ticket"},
    }
    agents = [triage(hook), triage(hook, name="other")]
    delivery = EventDelivery("webhook", "", {"ticket": 5}, WebhookTarget("team", "issue-triage", "crm"))
    [planned] = plan_delivery(delivery, agents)
    assert planned.agent == "issue-triage"
    assert planned.authorization is None
    assert planned.run is not None
    assert planned.run["spec"]["input"] == {"issue": 5}
    assert planned.run["metadata"]["annotations"][k.ANNOTATION_DELIVERY] == delivery.key != ""
    assert (
        plan_delivery(EventDelivery("webhook", "", {"ticket": 5}, WebhookTarget("team", "issue-triage", "x")), agents)
        == []
    )


def test_workspace_repository_reads_git_urls() -> None:
    assert workspace_repository("https://github.example/demo/sample-app.git") == REPO
    assert workspace_repository("git@github.example:demo/sample-app.git") == REPO
    assert workspace_repository(REPO) == REPO


def test_a_run_replies_when_it_starts_and_once_when_it_finishes() -> None:
    run: dict[str, Any] = {
        "metadata": {"name": "r", "namespace": "team", "annotations": {k.ANNOTATION_REPLY_TO: f"{REPO}#7"}},
        "spec": {"agentRef": {"name": "issue-triage"}},
        "status": {"phase": "Running"},
    }
    [started] = due_replies(run)
    assert started.mark == "started"
    assert started.thread == parse_thread(f"{REPO}#7")
    run["metadata"]["annotations"][k.ANNOTATION_REPLIED] = "started"
    assert due_replies(run) == []
    run["status"] = {"phase": "AwaitingReview", "review": {"url": "https://github.example/pull/3"}}
    [finished] = due_replies(run)
    assert finished.mark == "finished"
    assert "https://github.example/pull/3" in finished.body
    run["metadata"]["annotations"][k.ANNOTATION_REPLIED] = "finished,started"
    assert due_replies(run) == []
    assert due_replies({"metadata": {"name": "manual"}, "status": {"phase": "Failed"}}) == []


def test_concurrency_is_per_subject_and_policy() -> None:
    assert decide_concurrency("Forbid", "new", []) == ConcurrencyDecision(create=True)
    assert decide_concurrency("Forbid", "new", ["new"]) == ConcurrencyDecision(create=True), "a redelivery"
    forbidden = decide_concurrency("Forbid", "new", ["old"])
    assert not forbidden.create
    assert forbidden.message == "old is still running for the same subject"
    assert decide_concurrency("Replace", "new", ["old", "new"]) == ConcurrencyDecision(
        create=True, cancel=("old",), message="replaced by new"
    )
    assert decide_concurrency("Allow", "new", ["old"]) == ConcurrencyDecision(create=True)


def test_runs_about_one_issue_share_a_subject_and_webhooks_have_none() -> None:
    first = plan_delivery(EventDelivery("issues", "g-1", issue_payload()), [triage(OPENED)])[0]
    again = plan_delivery(
        EventDelivery("issues", "g-2", issue_payload("labeled")), [triage({**OPENED, "github": {"event": "issues"}})]
    )[0]
    assert first.run is not None
    assert again.run is not None
    assert first.subject == again.subject != ""
    assert first.run["metadata"]["labels"][k.LABEL_EVENT_SUBJECT] == first.subject
    assert first.concurrency_policy == "Forbid"
    hook = {"name": "crm", "webhook": {"secretRef": {"name": "crm", "key": "s"}}, "input": {"issue": "1"}}
    [webhook] = plan_delivery(
        EventDelivery("webhook", "", {}, WebhookTarget("team", "issue-triage", "crm")), [triage(hook)]
    )
    assert webhook.subject == ""
    assert webhook.run is not None
    assert k.LABEL_EVENT_SUBJECT not in webhook.run["metadata"]["labels"]


def test_admission_applies_the_rate_limit_then_the_cooldown_then_the_policy() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    limited = {**OPENED, "cooldown": "10m"}
    _, agent = triage(limited)
    agent = agent.model_copy(
        update={
            "spec": agent.spec.model_copy(
                update={
                    "triggers": agent.spec.triggers.model_copy(update={"rate_limit": EventRateLimit(runs=2, per="1h")})
                }
            )
        }
    )
    [planned] = plan_delivery(EventDelivery("issues", "g-new", issue_payload()), [("team", agent)])
    assert planned.cooldown_seconds == 600
    assert planned.rate_limit == (2, 3600)

    def run(name: str, minutes_ago: int, *, subject: str = planned.subject, active: bool = False) -> EventRun:
        return EventRun(name, "opened", subject, now - timedelta(minutes=minutes_ago), active)

    assert decide_admission(planned, [], now).create
    assert decide_admission(planned, [run(planned.run_name, 0, active=True)], now).create, "a redelivery"
    cooling = decide_admission(planned, [run("recent", 5)], now)
    assert not cooling.create
    assert cooling.message == "cooling down: the last run for the same subject started 300s ago (cooldown 600s)"
    assert decide_admission(planned, [run("recent", 5, subject="other-issue")], now).create
    limited_out = decide_admission(planned, [run("a", 20, subject="x"), run("b", 50, subject="y")], now)
    assert not limited_out.create
    assert limited_out.message == "the rate limit of 2 event runs per 3600s is reached"
    assert decide_admission(planned, [run("a", 20, subject="x"), run("b", 70, subject="y")], now).create
    busy = decide_admission(planned, [run("old", 30, active=True)], now)
    assert not busy.create
    assert busy.message == "old is still running for the same subject"


def test_an_agent_is_never_triggered_by_its_own_pull_requests() -> None:
    trigger = {
        "name": "reviewed",
        "github": {"event": "pull_request", "actions": ["opened"]},
        "input": {"issue": "payload.pull_request.number"},
        "authorization": {"permission": "none"},
    }

    def opened(head: str) -> list[Any]:
        payload = {
            "action": "opened",
            "pull_request": {"number": 3, "base": {"ref": "main"}, "head": {"ref": head}, "labels": []},
            "repository": {"full_name": REPO},
            "sender": {"login": "atomesh-bot"},
        }
        return plan_delivery(EventDelivery("pull_request", "g", payload), [triage(trigger)])

    assert opened(f"{k.BRANCH_PREFIX}/issue-triage/issue-triage-1") == []
    assert len(opened(f"{k.BRANCH_PREFIX}/bug-fix/bug-fix-1")) == 1, "another agent's pull request counts"
    assert len(opened("feature/login")) == 1


def test_a_comment_replayed_under_a_new_delivery_id_asks_for_the_same_run() -> None:
    """A captured, signed delivery sent again with a new X-GitHub-Delivery is the same comment."""
    payload = comment_payload("/triage")
    [first] = plan_delivery(EventDelivery("issue_comment", "guid-1", payload), [triage(COMMAND)])
    [replay] = plan_delivery(EventDelivery("issue_comment", "guid-2", payload), [triage(COMMAND)])
    assert first.run is not None
    assert replay.run is not None
    assert first.run["metadata"]["name"] == replay.run["metadata"]["name"]
    assert replay.run["metadata"]["annotations"][k.ANNOTATION_DELIVERY] == "guid-2"  # provenance stays true
    another = {**payload, "comment": {**payload["comment"], "id": 100}}
    [other] = plan_delivery(EventDelivery("issue_comment", "guid-3", another), [triage(COMMAND)])
    assert other.run is not None
    assert other.run["metadata"]["name"] != first.run["metadata"]["name"]
    edited = {**payload, "action": "edited", "comment": {**payload["comment"], "updated_at": "2026-01-02T00:00:00Z"}}
    original = EventDelivery("issue_comment", "guid-1", payload).subject_key
    assert original == "issue_comment/99/"
    assert EventDelivery("issue_comment", "guid-4", edited).subject_key == "issue_comment/99/2026-01-02T00:00:00Z"


def test_a_review_is_known_by_its_id_and_other_events_by_their_delivery() -> None:
    review = {"action": "submitted", "review": {"id": 7, "submitted_at": "2026-01-01T00:00:00Z"}}
    assert EventDelivery("pull_request_review", "a", review).subject_key == "pull_request_review/7/2026-01-01T00:00:00Z"
    assert EventDelivery("issues", "guid-9", issue_payload()).subject_key == "guid-9"
