"""Event triggers end to end: people act on the GitHub emulator through its REST API, its signed
webhooks reach the real operator's ingress, and the triggered AgentRuns run on the local kubelet.

- `issue-triage` (agents/issue-triage.yaml, on the scripted model) runs by itself when an issue is
  opened, replies on the issue, and opens its pull request; redelivering the delivery three times across an
  operator restart starts no second run.
- A slash command from a writer starts a run with its arguments; from an outsider it gets a refusal
  reply; with `authorization.teams`, a reader who is an active member of the team starts one too; a
  bad argument gets a reply and an Event, never a run; a second one while the first run is
  active is skipped with a reply (one run per issue at a time).
- A failing check run on a pull request starts the configured fixer on that pull request's branch: its
  commit lands on the branch (the head moves), no pull request is opened, and its own commit's failing
  check does not start it again.
- A signed generic webhook starts a run with its mapped input; a bad signature gets 401 and starts
  nothing; a path naming no trigger gets 404.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.controller.main import OperatorThread
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.forge.github import GitHubForge, RetryPolicy
from atomesh.forge.webhook import sign
from atomesh.kube.resources import AGENT_RUNS, AGENTS
from tests.e2e.review.conftest import (
    MODEL,
    WEBHOOK_SECRET,
    RecordingSleep,
    ReviewCluster,
    ReviewStack,
    edit_turns,
    operator_config,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ISSUE_TRIAGE = Path(__file__).resolve().parents[3] / "agents" / "issue-triage.yaml"
HOOK_EVENTS = ["issues", "issue_comment", "pull_request", "pull_request_review", "push", "check_run", "check_suite"]
HOOK_SECRET_VALUE = "crm-hook-secret-93b1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TriggerOperator:
    """The real operator on a fixed port (so the GitHub hook survives a restart), all namespaces."""

    def __init__(self, cluster: ReviewCluster) -> None:
        self.cluster = cluster
        self.port = free_port()
        self.thread = self._start()
        self.url = f"http://127.0.0.1:{self.port}"
        cluster.github.add_webhook(self.url + WEBHOOK_PATH, WEBHOOK_SECRET, HOOK_EVENTS, cluster.repo)

    def _start(self) -> OperatorThread:
        github = self.cluster.github
        forge = GitHubForge(
            github.url, github.bot_token, sleep=RecordingSleep(), retry=RetryPolicy(base_delay=0.2, secondary_wait=0.5)
        )
        return OperatorThread(
            operator_config(github, 30.0),
            str(self.cluster.kube_api.kubeconfig),
            [],
            all_namespaces=True,
            forge=forge,
            webhook_secret=WEBHOOK_SECRET,
            metrics_port=self.port,
        ).start()

    def restart(self) -> None:
        self.thread.stop()
        self.thread = self._start()

    def stop(self) -> None:
        self.thread.stop()


@pytest.fixture(scope="module")
def trigger_operator(review_cluster: ReviewCluster) -> Iterator[TriggerOperator]:
    running = TriggerOperator(review_cluster)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def stack(review_stack: ReviewStack, trigger_operator: TriggerOperator) -> Iterator[ReviewStack]:
    """The test's namespace; its Agents are deleted at the end, so no other test's event triggers them."""
    yield review_stack
    for agent in review_stack.kube.list(AGENTS, review_stack.namespace):
        review_stack.kube.delete(AGENTS, review_stack.namespace, agent["metadata"]["name"])


def triggered_runs(stack: ReviewStack, agent: str) -> list[dict[str, Any]]:
    return list(stack.kube.list(AGENT_RUNS, stack.namespace, {k.LABEL_AGENT: agent}))


def replies(stack: ReviewStack, number: int) -> list[str]:
    """The operator's comments on an issue, oldest first."""
    found = stack.repo().get_issue(number).get_comments()
    return [comment.body for comment in found if comment.user.login == stack.github.bot]


def agent_ready(stack: ReviewStack, name: str) -> None:
    """Wait until the operator reconciled the Agent (its watch has then also indexed the triggers)."""

    def ready() -> bool:
        conditions = ((stack.kube.get(AGENTS, stack.namespace, name) or {}).get("status") or {}).get("conditions")
        return any(cond["type"] == "Ready" and cond["status"] == "True" for cond in conditions or [])

    stack.wait_until(f"Agent {name} to be Ready", ready)


def issue_triage(stack: ReviewStack, model_url: str) -> dict[str, Any]:
    """agents/issue-triage.yaml as shipped, on this test's scripted model through the litellm harness."""
    manifest = copy.deepcopy(yaml.safe_load(ISSUE_TRIAGE.read_text()))
    manifest["spec"]["harness"] = {"kind": "litellm", "model": MODEL, "maxTurns": 10, "baseURL": model_url}
    manifest["spec"]["limits"] = {"timeout": "3m"}
    stack.apply(manifest)
    return manifest


def test_an_opened_issue_starts_issue_triage_exactly_once_and_it_opens_a_pull_request(
    stack: ReviewStack, trigger_operator: TriggerOperator
) -> None:
    note = f"docs/triage/{stack.namespace}.md"
    model_url = stack.script(edit_turns({note: "# Triage\n\nSeverity: low.\n"}, "Wrote the triage note."))
    issue_triage(stack, model_url)
    agent_ready(stack, "issue-triage")

    issue = stack.repo().create_issue(title=f"Greeting crashes ({stack.namespace})", body="Steps: run it.")

    [run] = stack.wait_until("the triggered run", lambda: triggered_runs(stack, "issue-triage"))
    name = run["metadata"]["name"]
    assert run["spec"]["input"] == {"issue": issue.number, "summary": issue.title}
    assert run["spec"]["trigger"] == {"kind": "event", "source": issue.html_url}
    assert run["metadata"]["labels"][k.LABEL_EVENT_TRIGGER] == "opened"
    annotations = run["metadata"]["annotations"]
    assert annotations[k.ANNOTATION_SENDER] == stack.github.reviewer
    assert annotations[k.ANNOTATION_REPLY_TO] == f"{stack.repo_name}#{issue.number}"
    [delivery] = [
        d for d in stack.github.deliveries("issues", "opened") if d.payload["issue"]["number"] == issue.number
    ]
    assert annotations[k.ANNOTATION_DELIVERY] == delivery.id

    status = stack.awaiting_review(name)
    pull = stack.pull(status["review"]["number"])
    assert [file.filename for file in pull.get_files()] == [note]
    posted = stack.wait_until(
        "the start and finish replies on the issue", lambda: (found := replies(stack, issue.number))[1:] and found
    )
    assert posted[0] == f"atomesh: started `issue-triage` as AgentRun `{stack.namespace}/{name}`."
    assert pull.html_url in posted[1]

    # GitHub's "Redeliver", three times, with an operator restart between the first and the others.
    stack.github.emulator.redeliver(delivery.id)
    trigger_operator.restart()
    for _ in range(2):
        stack.github.emulator.redeliver(delivery.id)
    stack.wait_until(
        "the three redeliveries to be answered",
        lambda: len([d for d in stack.github.deliveries("issues") if d.id == delivery.id and d.redelivery]) >= 3,
    )
    redelivered = [d for d in stack.github.deliveries("issues") if d.id == delivery.id and d.redelivery]
    assert {d.status for d in redelivered} <= {200, 202}
    assert [r["metadata"]["name"] for r in triggered_runs(stack, "issue-triage")] == [name]
    assert len(replies(stack, issue.number)) == 2
    stack.assert_no_secrets()


def command_agent(stack: ReviewStack, model_url: str, authorization: dict[str, Any] | None = None) -> None:
    stack.apply(
        {
            "apiVersion": "atomesh.io/v1alpha1",
            "kind": "Agent",
            "metadata": {"name": "retriage"},
            "spec": {
                "purpose": "Triage an issue again on request.",
                "instructions": "Write a triage note.",
                "input": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["issue"],
                        "properties": {"issue": {"type": "integer"}, "depth": {"type": "integer", "maximum": 3}},
                    }
                },
                "output": {"artifact": "doc", "paths": ["docs/**"]},
                "workspace": {"repo": stack.repo_name},
                "harness": {"kind": "litellm", "model": MODEL, "maxTurns": 10, "baseURL": model_url},
                "limits": {"timeout": "3m"},
                "triggers": {
                    "events": [
                        {
                            "name": "command",
                            "github": {"event": "issue_comment", "command": "retriage"},
                            "filter": f"payload.issue.title.contains('{stack.namespace}')",
                            "input": {"issue": "payload.issue.number"},
                            **({"authorization": authorization} if authorization else {}),
                        }
                    ]
                },
            },
        }
    )


def test_a_slash_command_from_a_writer_starts_a_run_and_from_an_outsider_gets_a_refusal(stack: ReviewStack) -> None:
    model_url = stack.script(edit_turns({f"docs/{stack.namespace}.md": "# Again\n"}, "Triaged again."))
    command_agent(stack, model_url)
    agent_ready(stack, "retriage")
    issue = stack.repo().create_issue(title=f"Slow start ({stack.namespace})")

    bad = issue.create_comment("/retriage depth=9")  # breaks the schema's maximum: a reply, no run
    invalid = stack.wait_until("the invalid-input reply", lambda: replies(stack, issue.number))
    assert invalid[0].startswith("atomesh: `retriage` did not start (trigger `command`): input.depth: ")
    assert stack.event_count("retriage", c.TRIGGER_INPUT_INVALID) == 1

    outsider = stack.github.client(stack.github.outsider_token).get_repo(stack.repo_name)
    refused = outsider.get_issue(issue.number).create_comment("/atomesh retriage")
    refusal = stack.wait_until("the refusal reply", lambda: (found := replies(stack, issue.number))[1:] and found)
    assert refusal[1] == (
        f"atomesh: `retriage` did not start: @{stack.github.outsider} needs write access to "
        f"{stack.repo_name} (has read)."
    )
    assert stack.event_count("retriage", c.TRIGGER_REFUSED) == 1
    assert triggered_runs(stack, "retriage") == []

    accepted = issue.create_comment("/retriage depth=2")
    [run] = stack.wait_until("the commanded run", lambda: triggered_runs(stack, "retriage"))
    name = run["metadata"]["name"]
    assert run["spec"]["input"] == {"issue": issue.number, "depth": 2}
    assert run["metadata"]["labels"][k.LABEL_EVENT] == "issue_comment"

    # One run per issue at a time (concurrencyPolicy Forbid, the default): the run takes seconds in its pod.
    skipped_command = issue.create_comment("/retriage depth=1")
    skipped = f"atomesh: `retriage` did not start: {name} is still running for the same subject."
    stack.wait_until("the skip reply", lambda: skipped in replies(stack, issue.number))
    assert stack.event_count("retriage", c.TRIGGER_SKIPPED) == 1

    stack.awaiting_review(name)
    finished = stack.wait_until(
        "the finish reply", lambda: [body for body in replies(stack, issue.number) if "for review" in body]
    )
    assert finished[0].startswith(f"atomesh: `retriage` (AgentRun `{stack.namespace}/{name}`) opened ")
    assert f"atomesh: started `retriage` as AgentRun `{stack.namespace}/{name}`." in replies(stack, issue.number)
    assert len(replies(stack, issue.number)) == 5
    assert len(triggered_runs(stack, "retriage")) == 1
    # The operator reacts to each command: 👀 acted on, 😕 started nothing (its reply says why).
    for command, reaction in (
        (bad, "confused"),
        (refused, "confused"),
        (accepted, "eyes"),
        (skipped_command, "confused"),
    ):
        rollup = stack.repo().get_issue(issue.number).get_comment(command.id).raw_data["reactions"]
        assert (rollup["total_count"], rollup[reaction]) == (1, 1), f"{command.body}: {rollup}"


def test_a_team_members_slash_command_starts_a_run_and_a_non_members_gets_a_refusal(stack: ReviewStack) -> None:
    model_url = stack.script(edit_turns({f"docs/{stack.namespace}.md": "# Team\n"}, "Triaged for the team."))
    team = f"triage-{stack.namespace}"
    # A reader (not enough for the default write access) who is an active member of the team.
    member = f"member-{stack.namespace}"
    member_token = stack.github.emulator.add_user(member)
    stack.github.emulator.grant(stack.repo_name, member, "read")
    stack.github.emulator.add_team("demo", team, {member: "active", stack.github.outsider: "pending"})
    command_agent(stack, model_url, {"teams": [f"demo/{team}"]})
    agent_ready(stack, "retriage")
    issue = stack.repo().create_issue(title=f"Team triage ({stack.namespace})")

    outsider = stack.github.client(stack.github.outsider_token).get_repo(stack.repo_name)
    outsider.get_issue(issue.number).create_comment("/retriage")  # a pending invitation does not count
    refusal = stack.wait_until("the refusal reply", lambda: replies(stack, issue.number))
    assert refusal == [
        f"atomesh: `retriage` did not start: @{stack.github.outsider} needs write access to {stack.repo_name} "
        f"(has read) or membership of demo/{team}."
    ]
    assert triggered_runs(stack, "retriage") == []

    stack.github.client(member_token).get_repo(stack.repo_name).get_issue(issue.number).create_comment("/retriage")
    [run] = stack.wait_until("the team member's run", lambda: triggered_runs(stack, "retriage"))
    assert run["metadata"]["annotations"][k.ANNOTATION_SENDER] == member
    stack.awaiting_review(run["metadata"]["name"])


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())["message"]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["message"]


def test_a_signed_generic_webhook_starts_a_run_and_a_bad_signature_starts_nothing(
    stack: ReviewStack, trigger_operator: TriggerOperator
) -> None:
    stack.kube_api.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "crm-hook", "namespace": stack.namespace},
            "data": {"secret": base64.b64encode(HOOK_SECRET_VALUE.encode()).decode()},
        }
    )
    model_url = stack.script(edit_turns({f"docs/{stack.namespace}.md": "# Ticket\n"}, "Noted the ticket."))
    manifest = stack.agent("ticket-notes", "doc", ["docs/**"], model_url=model_url)
    manifest["spec"]["input"] = {
        "schema": {"type": "object", "required": ["ticket"], "properties": {"ticket": {"type": "string"}}}
    }
    manifest["spec"]["triggers"] = {
        "rateLimit": {"runs": 1, "per": "1h"},
        "events": [
            {
                "name": "crm",
                "webhook": {"secretRef": {"name": "crm-hook", "key": "secret"}},
                "filter": "payload.priority == 'high'",
                "input": {"ticket": "'T-' + string(payload.id)"},
            }
        ],
    }
    stack.apply(manifest)
    url = f"{trigger_operator.url}/webhooks/agents/{stack.namespace}/ticket-notes/crm"
    body = json.dumps({"id": 4711, "priority": "high"}).encode()
    stack.wait_until(
        "the operator to know the trigger", lambda: post(url, b"{}", {"X-Hub-Signature-256": "sha256=00"})[0] == 401
    )

    assert post(url, body, {"X-Hub-Signature-256": sign("not-the-secret", body)}) == (
        401,
        "webhook signature (X-Hub-Signature-256) is missing or does not match the secret",
    )
    assert post(url, body, {})[0] == 401
    assert post(url.replace("/crm", "/nope"), body, {"X-Hub-Signature-256": sign(HOOK_SECRET_VALUE, body)})[0] == 404
    assert triggered_runs(stack, "ticket-notes") == []

    low = json.dumps({"id": 1, "priority": "low"}).encode()
    assert post(url, low, {"X-Hub-Signature-256": sign(HOOK_SECRET_VALUE, low)})[0] == 202
    signed = {"X-Hub-Signature-256": sign(HOOK_SECRET_VALUE, body), "X-Delivery-ID": f"crm-{stack.namespace}"}
    assert post(url, body, signed) == (202, "accepted")
    assert post(url, body, signed) == (200, "duplicate delivery")
    [run] = stack.wait_until("the webhook's run", lambda: triggered_runs(stack, "ticket-notes"))
    assert run["spec"]["input"] == {"ticket": "T-4711"}
    assert run["metadata"]["labels"][k.LABEL_EVENT] == "webhook"
    assert k.ANNOTATION_REPLY_TO not in run["metadata"]["annotations"]
    stack.awaiting_review(run["metadata"]["name"])

    # Another ticket within the hour: the Agent's rate limit (1 per hour) starts nothing.
    other = json.dumps({"id": 4712, "priority": "high"}).encode()
    assert post(url, other, {"X-Hub-Signature-256": sign(HOOK_SECRET_VALUE, other)})[0] == 202
    assert stack.event_count("ticket-notes", c.TRIGGER_SKIPPED) == 1
    assert len(triggered_runs(stack, "ticket-notes")) == 1
    events = stack.kubectl("get", "events", "-o", "yaml")
    assert HOOK_SECRET_VALUE not in events + repr(stack.runs()), "the webhook's secret leaked"
    stack.assert_no_secrets()


def test_a_failing_check_run_starts_the_fixer_on_its_pull_requests_branch(stack: ReviewStack) -> None:
    model_url = stack.script(edit_turns({f"docs/{stack.namespace}.md": "# Fixed\n"}, "Fixed the check."))
    manifest = stack.agent("ci-fixer", "doc", ["docs/**"], model_url=model_url)
    manifest["spec"]["input"] = {
        "schema": {
            "type": "object",
            "required": ["pull", "branch"],
            "properties": {"pull": {"type": "integer"}, "branch": {"type": "string"}},
        }
    }
    manifest["spec"]["triggers"] = {
        "events": [
            {
                "name": "failed-check",
                "github": {"event": "check_run", "actions": ["completed"], "conclusions": ["failure"]},
                "filter": f"payload.check_run.check_suite.head_branch.startsWith('{stack.namespace}')",
                "input": {
                    "pull": "payload.check_run.pull_requests[0].number",
                    "branch": "payload.check_run.check_suite.head_branch",
                },
                "publish": "pullRequestBranch",
                # A check is reported by an app: what it says is authorised by the push that caused it.
                "authorization": {"permission": "none", "allowBots": True},
            }
        ]
    }
    stack.apply(manifest)
    agent_ready(stack, "ci-fixer")
    branch = f"{stack.namespace}/change"
    sha = stack.github.push_branch(stack.repo_name, branch, {"README.md": "changed\n"})
    repo = stack.repo(stack.github.bot_token)
    pull = repo.create_pull(base="main", head=branch, title=f"Change ({stack.namespace})", body="")
    pulls_before = repo.get_pulls(state="all").totalCount

    repo.create_check_run("tests", sha, status="completed", conclusion="success")
    repo.create_check_run("lint", sha, status="completed", conclusion="failure")

    [run] = stack.wait_until("the fixer's run", lambda: triggered_runs(stack, "ci-fixer"))
    assert run["spec"]["input"] == {"pull": pull.number, "branch": branch}
    assert run["spec"]["pullRequest"] == {"number": pull.number, "headBranch": branch}
    assert run["metadata"]["labels"][k.LABEL_EVENT] == "check_run"
    assert run["metadata"]["annotations"][k.ANNOTATION_REPLY_TO] == f"{stack.repo_name}#{pull.number}"
    status = stack.awaiting_review(run["metadata"]["name"])

    # The fix is a commit on the pull request's own branch: its head moved, and no pull request was opened.
    moved = repo.get_pull(pull.number)
    assert moved.head.sha == status["artifact"]["commit"] != sha
    assert repo.get_commit(moved.head.sha).parents[0].sha == sha
    assert status["artifact"]["files"] == [f"docs/{stack.namespace}.md"]
    assert repo.get_contents(f"docs/{stack.namespace}.md", ref=branch).decoded_content == b"# Fixed\n"
    assert status["review"]["number"] == pull.number
    assert repo.get_pulls(state="all").totalCount == pulls_before
    assert moved.title == f"Change ({stack.namespace})"
    posted = stack.wait_until(
        "the replies on the pull request", lambda: (found := replies(stack, pull.number))[2:] and found
    )
    assert posted[0].startswith("atomesh: started `ci-fixer`")
    assert any("for review" in body for body in posted[1:])

    # The fix's own check fails too: the fixer does not fix its own fix.
    repo.create_check_run("lint", moved.head.sha, status="completed", conclusion="failure")
    stack.wait_until("the skip", lambda: stack.event_count("ci-fixer", c.TRIGGER_SKIPPED) == 1)
    assert len(triggered_runs(stack, "ci-fixer")) == 1
