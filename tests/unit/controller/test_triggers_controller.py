"""The triggers controller on the port fakes (FakeKube, FakeForge): a pull request from a fork gets a
refusal reply and no run; a reader in an allowed team starts a run, a reader in none is refused."""

from __future__ import annotations

from typing import Any

from tests.unit.controller.controller_fakes import NAMESPACE, Events, agent_manifest, operator_context

from atomesh.controller.triggers import TriggerIndex, Triggers
from atomesh.core.triggers import EventDelivery
from atomesh.forge.fake import FakeForge
from atomesh.forge.protocol import PullRequestRequest
from atomesh.kube.resources import AGENT_RUNS

REPO = "acme/app"


def controller(*triggers: dict[str, Any]) -> tuple[Triggers, FakeForge, Any]:
    ctx, kube = operator_context(Events())
    forge = FakeForge()
    forge.open_or_update_pull_request(PullRequestRequest(REPO, "feature", "main", "Feature", ""))
    index = TriggerIndex()
    index.observe(NAMESPACE, "fixer", agent_manifest("fixer", triggers={"events": list(triggers)}))
    return Triggers(ctx, index, forge), forge, kube


def check_from(head_repo_id: int) -> dict[str, Any]:
    def side(ref: str, repo_id: int) -> dict[str, Any]:
        return {"ref": ref, "sha": "a" * 40, "repo": {"id": repo_id, "url": "u", "name": "app"}}

    return {
        "action": "completed",
        "check_run": {
            "conclusion": "failure",
            "head_sha": "a" * 40,
            "check_suite": {"head_branch": "feature"},
            "pull_requests": [{"number": 1, "head": side("feature", head_repo_id), "base": side("main", 1)}],
        },
        "repository": {"full_name": REPO, "default_branch": "main"},
        "sender": {"login": "ci[bot]", "type": "Bot"},
    }


FIX = {
    "name": "fix-ci",
    "github": {"event": "check_run", "conclusions": ["failure"]},
    "publish": "pullRequestBranch",
    "authorization": {"permission": "none", "allowBots": True},
}


def test_a_fork_gets_a_refusal_reply_and_a_same_repository_pull_request_a_run_on_its_branch() -> None:
    triggers, forge, kube = controller(FIX)
    triggers.reconcile(EventDelivery("check_run", "d1", check_from(head_repo_id=2)))
    assert list(kube.list(AGENT_RUNS, NAMESPACE)) == []
    [reply] = forge.pull(REPO, 1).comments
    assert reply.startswith("atomesh: `fixer` did not start: pull request #1 comes from a fork;")

    triggers.reconcile(EventDelivery("check_run", "d2", check_from(head_repo_id=1)))
    [run] = kube.list(AGENT_RUNS, NAMESPACE)
    assert run["spec"]["pullRequest"] == {"number": 1, "headBranch": "feature"}


def comment(sender: str) -> dict[str, Any]:
    return {
        "action": "created",
        "issue": {"number": 1},
        "comment": {"id": len(sender), "body": "/atomesh fixer", "author_association": "NONE"},
        "repository": {"full_name": REPO},
        "sender": {"login": sender, "type": "User"},
    }


def test_a_reader_in_an_allowed_team_starts_a_run_and_a_reader_in_none_is_refused() -> None:
    command = {"name": "command", "github": {"event": "issue_comment"}, "authorization": {"teams": ["acme/triage"]}}
    triggers, forge, kube = controller(command)
    for reader in ("ada", "bob", "cy"):
        forge.set_permission(REPO, reader, "read")
    forge.add_team_member("acme", "triage", "ada")
    forge.add_team_member("acme", "triage", "cy", state="pending")

    triggers.reconcile(EventDelivery("issue_comment", "c-bob", comment("bob")))
    triggers.reconcile(EventDelivery("issue_comment", "c-cy", comment("cy")))
    assert list(kube.list(AGENT_RUNS, NAMESPACE)) == []
    assert forge.pull(REPO, 1).comments == [
        f"atomesh: `fixer` did not start: @{who} needs write access to {REPO} (has read) or membership of acme/triage."
        for who in ("bob", "cy")
    ]
    triggers.reconcile(EventDelivery("issue_comment", "c-ada", comment("ada")))
    [run] = kube.list(AGENT_RUNS, NAMESPACE)
    assert run["metadata"]["annotations"]["atomesh.io/sender"] == "ada"
