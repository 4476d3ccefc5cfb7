"""`atomesh dev --demo --trigger`: the demo agent started by its event trigger instead of by hand.

The reviewer opens an issue in the GitHub emulator through its REST API; the emulator delivers the
signed `issues` webhook to the operator, whose trigger creates the run; the demo follows that run to a
merged pull request like `--demo` does. Needs an Agent with a trigger on opened issues (issue-triage).
"""

from __future__ import annotations

from typing import Any

from atomesh.api import constants as k
from atomesh.commands.demo import Demo, DemoFailed
from atomesh.commands.examples import describe_input
from atomesh.kube.resources import AGENT_RUNS

ISSUE_TITLE = 'greet("") greets nobody'
ISSUE_BODY = '`greet("")` returns `"Hello, !"` instead of reporting the empty name.'


def opens_on_issues(manifest: dict[str, Any]) -> bool:
    """Whether the Agent declares a trigger that an opened issue starts."""
    events = ((manifest.get("spec") or {}).get("triggers") or {}).get("events") or []
    for trigger in events:
        github = trigger.get("github") or {}
        if github.get("event") == "issues" and (not github.get("actions") or "opened" in github["actions"]):
            return True
    return False


class TriggerDemo(Demo):
    done = "the triggered agent's change is merged into main"

    def create_run(self, agent: str) -> str:
        if not opens_on_issues(self.manifest):
            raise DemoFailed(f"--trigger: Agent {agent} declares no trigger on opened issues (spec.triggers.events)")
        repo_name = str(self.manifest["spec"]["workspace"]["repo"])
        client = self.reviewer_client()
        try:
            issue = client.get_repo(repo_name).create_issue(title=ISSUE_TITLE, body=ISSUE_BODY)
        finally:
            client.close()
        accounts = self.github.accounts
        self.say(f"{accounts.reviewer if accounts else 'the reviewer'} opened issue #{issue.number}: {issue.title}")
        thread = f"{repo_name}#{issue.number}"

        def triggered() -> dict[str, Any] | None:
            runs = self.kube.list(AGENT_RUNS, self.namespace, {k.LABEL_AGENT: agent, k.LABEL_TRIGGER: "event"})
            return next(
                (
                    run
                    for run in runs
                    if (run["metadata"].get("annotations") or {}).get(k.ANNOTATION_REPLY_TO) == thread
                ),
                None,
            )

        run = self.wait(f"the run issue #{issue.number} triggers", triggered)
        labels = run["metadata"].get("labels") or {}
        name = str(run["metadata"]["name"])
        self.say(
            f"the issues webhook started AgentRun {name} (trigger {labels.get(k.LABEL_EVENT_TRIGGER)}, "
            f"input {describe_input(run['spec'].get('input') or {})})"
        )
        return name
