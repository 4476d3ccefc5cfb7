"""Organisational context and session state end to end, with the LiteLLM loop and Claude Code: a ConfigMap Context's
text reaches the model's request, its pinned version is in the run's status and the pull request's
provenance, a new version is a new Agent revision; a revision after "changes requested" resumes the
session of the run it revises (the model sees the earlier turns); its merge proposes the reviewers' feedback
as a memory pull request, and once that is merged the next run receives the lesson."""

from __future__ import annotations

from typing import Any

import pytest
from github import UnknownObjectException

from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.kube.resources import AGENTS, CONTEXTS
from atomesh.review import parse_provenance
from tests.e2e.review.conftest import ReviewStack, edit_turns

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]

RULE = "HANDBOOK-RULE-7f: greet every reader by name."
RULE_V2 = "HANDBOOK-RULE-9c: greet every reader by first name."


def handbook(stack: ReviewStack, configmap: str, rule: str) -> None:
    stack.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": configmap}, "data": {"style.md": rule}})
    stack.apply(
        {
            "apiVersion": "atomesh.io/v1alpha1",
            "kind": "Context",
            "metadata": {"name": "handbook", "labels": {"handbook": "engineering"}},
            "spec": {"description": "The engineering handbook.", "configMap": {"name": configmap}},
        }
    )


def ready_revision(stack: ReviewStack, agent: str, not_: str | None = None) -> str:
    def revision() -> str | None:
        status = (stack.kube.get(AGENTS, stack.namespace, agent) or {}).get("status") or {}
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
        value = status.get("revision")
        return value if ready and value and "+context@" in value and value != not_ else None

    found: str = stack.wait_until(f"{agent} to be Ready with a context revision", revision)
    return found


def model_saw(model: AnthropicEmulator, text: str) -> list[dict[str, Any]]:
    """Bodies of the requests whose system prompt carries `text`."""
    return [r.body for r in model.requests if text in str(r.body.get("system", ""))]


@pytest.mark.parametrize("harness", ["litellm", "claude-code"])
def test_context_reaches_the_model_and_a_revision_resumes_the_session(review_stack: ReviewStack, harness: str) -> None:
    stack = review_stack
    # The GitHub repository is shared by the module's tests: names and files of this test are its own.
    agent, ns = f"guide-{harness.split('-')[0]}", stack.namespace
    handbook(stack, "handbook-v1", RULE)
    stack.script(
        edit_turns({f"docs/{ns}/greeting.md": "# Greeting\n\nHello, Ada.\n"}, "Added a greeting guide."),
        # A new file: Claude Code overwrites an existing file only after reading it in the same process.
        edit_turns({f"docs/{ns}/welcome.md": "# Welcome\n\nWelcome, Ada!\n"}, "Added a welcome."),
        edit_turns({f"docs/{ns}/farewell.md": "# Farewell\n\nGoodbye, Ada. Welcome back soon!\n"}, "Added a farewell."),
    )
    manifest = stack.agent(agent, "doc", ["docs/**"])
    manifest["spec"]["context"] = {"selector": {"matchLabels": {"handbook": "engineering"}}}
    manifest["spec"]["harness"]["kind"] = harness
    manifest["spec"]["memory"] = {"path": f".atomesh/memory/{agent}"}
    stack.apply(manifest)
    first_revision = ready_revision(stack, agent)

    stack.start_run(f"{agent}-1", agent, topic="greetings")
    status = stack.awaiting_review(f"{agent}-1")
    (pinned,) = status["agent"]["contexts"]
    assert (pinned["name"], pinned["kind"], pinned["configMap"]) == ("handbook", "configMap", "handbook-v1")
    assert pinned["digest"].startswith("sha256:")
    assert status["agent"]["revision"] == first_revision
    assert stack.model is not None
    assert model_saw(stack.model, RULE), "the context's text did not reach the model's system prompt"
    pull = stack.pull(status["review"]["number"])
    provenance = parse_provenance(pull.body or "")
    assert provenance is not None
    assert provenance["contexts"] == [f"handbook {pinned['revision']}"]
    assert "resumedSession" not in provenance

    stack.pull(pull.number).create_review(body="Please welcome them too.", event="REQUEST_CHANGES")
    revised = stack.awaiting_review(f"{agent}-1-r1")
    assert revised["review"]["number"] == pull.number
    resumed = [
        body
        for body in (r.body for r in stack.model.requests)
        if "Please welcome them too." in str(body.get("messages"))
        and any(
            m.get("role") == "assistant" and "Added a greeting guide." in str(m.get("content"))
            for m in body.get("messages") or []
        )
    ]
    assert resumed, "the revision's request does not carry the first run's turns: its session was not resumed"
    # The resumed session starts with the first run's task, then the first run's own turns.
    first_user = resumed[0]["messages"][0]
    assert "topic" in str(first_user.get("content")), "the resumed session does not start with the first task"
    provenance = parse_provenance(stack.pull(pull.number).body or "")
    assert provenance is not None
    assert provenance["resumedSession"] == f"{agent}-1"

    # Merged after changes were requested: the feedback is proposed as memory, a pull request of its own.
    assert stack.pull(pull.number).merge().merged
    lesson = stack.awaiting_review(f"{agent}-1-r1-memory")
    assert lesson["artifact"]["files"] == [f".atomesh/memory/{agent}/{agent}-1-r1.md"]
    memory_pull = stack.pull(lesson["review"]["number"])
    assert "atomesh-memory" in {label.name for label in memory_pull.labels}
    assert memory_pull.merge().merged
    assert stack.finished(f"{agent}-1-r1-memory")["phase"] == "Succeeded"

    # The next run receives the approved lesson, pinned in its provenance.
    requests_before = len(stack.model.requests)
    stack.start_run(f"{agent}-2", agent, topic="farewells")
    later = stack.awaiting_review(f"{agent}-2")
    systems = [str(r.body.get("system", "")) for r in stack.model.requests[requests_before:]]
    assert any("Please welcome them too." in system for system in systems), "the lesson did not reach the next run"
    provenance = parse_provenance(stack.pull(later["review"]["number"]).body or "")
    assert provenance is not None
    assert any(entry.startswith(f"memory .atomesh/memory/{agent}@sha1:") for entry in provenance["contexts"])

    # A session is stored with its run at a hidden ref, and collected with it.
    ref = f"atomesh/sessions/{agent}-1"
    assert stack.repo().get_git_ref(ref).ref == f"refs/{ref}"
    stack.kubectl("delete", "agentrun", f"{agent}-1")

    def collected() -> bool:
        try:
            stack.repo().get_git_ref(ref)
        except UnknownObjectException:
            return True
        return False

    stack.wait_until("the session ref to go with its run", collected)

    # A new version of the context (a new ConfigMap, as a generator names it) is a new Agent revision.
    handbook(stack, "handbook-v2", RULE_V2)
    second_revision = ready_revision(stack, agent, not_=first_revision)
    context = stack.kube.get(CONTEXTS, stack.namespace, "handbook") or {}
    assert context["status"]["version"]["configMap"] == "handbook-v2"
    assert second_revision != first_revision
    stack.assert_no_secrets()


def git_handbook(stack: ReviewStack, ref: str) -> None:
    stack.apply(
        {
            "apiVersion": "atomesh.io/v1alpha1",
            "kind": "Context",
            "metadata": {"name": "policies"},
            "spec": {"git": {"repo": stack.repo_name, "ref": ref, "path": "handbook"}},
        }
    )


def context_commit(stack: ReviewStack, name: str, not_: str | None = None) -> str:
    def commit() -> str | None:
        version = ((stack.kube.get(CONTEXTS, stack.namespace, name) or {}).get("status") or {}).get("version") or {}
        found = version.get("commit")
        return found if found and found != not_ else None

    found: str = stack.wait_until(f"Context {name} to resolve", commit)
    return found


def test_a_git_context_is_pinned_to_its_commit_and_a_new_ref_is_a_new_revision(review_stack: ReviewStack) -> None:
    stack = review_stack
    ns = stack.namespace
    rule = f"POLICY-{ns}: cite the issue number in every note."
    first = stack.github.push_branch(stack.repo_name, f"handbook-{ns}", {"handbook/policy.md": rule, "other.md": "x"})
    git_handbook(stack, f"handbook-{ns}")
    assert context_commit(stack, "policies") == first
    table = stack.kubectl("get", "ctx", "policies")
    assert "READY" in table
    assert f"handbook-{ns}@sha1:{first}" in table

    stack.script(edit_turns({f"docs/{ns}/policy-note.md": "Noted.\n"}, "Added a note."))
    manifest = stack.agent("noter", "doc", ["docs/**"])
    manifest["spec"]["context"] = {"names": ["policies"]}
    stack.apply(manifest)
    revision = ready_revision(stack, "noter")
    stack.start_run("noter-1", "noter")
    status = stack.awaiting_review("noter-1")
    assert [(c["name"], c["commit"]) for c in status["agent"]["contexts"]] == [("policies", first)]
    assert stack.model is not None
    assert model_saw(stack.model, rule), "the git context's text did not reach the model"
    provenance = parse_provenance(stack.pull(status["review"]["number"]).body or "")
    assert provenance is not None
    assert provenance["contexts"] == [f"policies handbook-{ns}@sha1:{first}"]

    second = stack.github.push_branch(stack.repo_name, f"handbook-{ns}-v2", {"handbook/policy.md": rule + " v2"})
    git_handbook(stack, f"handbook-{ns}-v2")
    assert context_commit(stack, "policies", not_=first) == second
    assert ready_revision(stack, "noter", not_=revision) != revision

    # Deleting the Context takes the Agent out of Ready until it is back: no run starts without its context.
    stack.kubectl("delete", "ctx", "policies")

    def not_ready() -> str | None:
        status = (stack.kube.get(AGENTS, stack.namespace, "noter") or {}).get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
        return ready.get("message") if ready.get("reason") == "ContextNotReady" else None

    assert "'policies'" in stack.wait_until("noter to wait for its Context", not_ready)


def test_an_opencode_revision_resumes_the_session_of_the_run_it_revises(
    review_stack: ReviewStack, opencode_cli: str
) -> None:
    """OpenCode: "changes requested" → the revision imports the first run's exported session, and its first
    model request carries the first run's turns before the reviewer's feedback."""
    stack = review_stack
    ns = stack.namespace
    stack.script(
        edit_turns({f"docs/{ns}/oc-greeting.md": "# Greeting\n\nHello.\n"}, "Added a greeting, OC-FIRST-TURN."),
        edit_turns({f"docs/{ns}/oc-welcome.md": "# Welcome\n\nWelcome!\n"}, "Added a welcome."),
    )
    manifest = stack.agent("guide-oc", "doc", ["docs/**"])
    manifest["spec"]["harness"]["kind"] = "opencode"
    stack.apply(manifest)
    stack.start_run("guide-oc-1", "guide-oc", topic="greetings")
    number = stack.awaiting_review("guide-oc-1", timeout=150)["review"]["number"]
    assert stack.model is not None
    first_requests = len(stack.model.requests)

    stack.pull(number).create_review(body="Please welcome them too.", event="REQUEST_CHANGES")
    stack.awaiting_review("guide-oc-1-r1", timeout=150)
    (resumed, *_) = [r.body for r in stack.model.requests[first_requests:] if r.turn is not None]
    messages = resumed["messages"]
    assert "topic" in str(messages[0]["content"]), "the resumed session does not start with the first task"
    assert any(m["role"] == "assistant" and "OC-FIRST-TURN" in str(m["content"]) for m in messages), (
        "the revision's first request does not carry the first run's turns: its session was not resumed"
    )
    assert "Please welcome them too." in str(messages[-1]["content"])
    provenance = parse_provenance(stack.pull(number).body or "")
    assert provenance is not None
    assert provenance["resumedSession"] == "guide-oc-1"
    stack.assert_no_secrets()
