"""Meshes on the emulators with the real operator and the REAL runner (litellm harness, scripted
model, GitHub emulator): merging each pull request fires the next node, closing one stops the
branch, a fan-in node waits for all its upstreams. People act through the GitHub REST API; the
review loop (webhooks) turns their decisions into run phases, the mesh turns those into runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.mesh.conftest import mesh_manifest, node_run, root_run
from tests.e2e.review.conftest import ReviewStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]


def agent_turns(agent: str, path: str, summary: str) -> list[dict[str, Any]]:
    """The agent writes `path`, then sums up; matched on the agent's name, so parallel runs do not mix."""
    system = f"the atomesh agent {agent!r}"
    content = f"# {agent}\n\n{summary}\n"
    return [
        {
            "match": {"systemContains": system, "toolResult": False},
            "times": 0,
            "tools": [{"tool": "write_file", "input": {"path": path, "content": content}}],
        },
        {
            "match": {"systemContains": system, "toolResult": True},
            "times": 0,
            "text": summary,
            "usage": {"input_tokens": 800, "output_tokens": 40},
        },
    ]


def setup_agents(stack: ReviewStack, *agents: str) -> None:
    """Doc agents writing docs/<namespace>/<agent>.md, each on the scripted model."""
    stack.script(*(agent_turns(a, f"docs/{stack.namespace}/{a}.md", f"Wrote the {a} note.") for a in agents))
    for agent in agents:
        stack.agent(agent, "doc", [f"docs/{stack.namespace}/**"])
    for agent in agents:
        stack.kubectl("wait", "--for=condition=Ready", f"agent/{agent}", "--timeout=60s")


def merge(stack: ReviewStack, run: str) -> dict[str, Any]:
    status = stack.awaiting_review(run)
    stack.pull(status["review"]["number"]).merge(merge_method="merge")
    done = stack.finished(run)
    assert done["phase"] == "Succeeded", done
    return done


def mesh_status(stack: ReviewStack, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(stack.kubectl("get", "mesh", name, "-o", "json")).get("status") or {}
    return found


CHAIN = [
    {"from": "triage", "to": "fix", "input": {"issue": "${upstream.input.issue}", "triage": "${upstream.review.url}"}},
    {
        "from": "fix",
        "to": "notes",
        "input": {"issue": "${upstream.input.issue}", "commit": "${upstream.review.mergeCommit}"},
    },
]


def test_merging_each_pull_request_fires_the_next_node(review_stack: ReviewStack) -> None:
    stack = review_stack
    setup_agents(stack, "triage", "fix", "notes")
    stack.apply(mesh_manifest("flow", {"triage": "triage", "fix": "fix", "notes": "notes"}, CHAIN))
    stack.kubectl("wait", "--for=condition=Ready", "mesh/flow", "--timeout=60s")

    stack.apply(root_run("bug-7", "flow", "triage", issue=7))
    triage = merge(stack, "bug-7")
    fix_name = node_run("flow", "bug-7", "fix")
    fix = merge(stack, fix_name)
    notes_name = node_run("flow", "bug-7", "notes")
    merge(stack, notes_name)

    runs = {run["metadata"]["name"]: run for run in stack.runs()}
    assert set(runs) == {"bug-7", fix_name, notes_name}
    execution = runs["bug-7"]["metadata"]["labels"]["atomesh.io/mesh-execution"]
    listed = stack.kubectl("get", "agr", "-l", f"atomesh.io/mesh-execution={execution}", "-o", "name").split()
    assert sorted(listed) == sorted(f"agentrun.atomesh.io/{name}" for name in runs)
    assert {run["metadata"]["labels"]["atomesh.io/mesh-node"] for run in runs.values()} == {"triage", "fix", "notes"}
    fix_spec, notes_spec = runs[fix_name]["spec"], runs[notes_name]["spec"]
    assert fix_spec["trigger"] == {"kind": "mesh", "source": "flow/triage->fix"}
    assert fix_spec["input"] == {"issue": 7, "triage": triage["review"]["url"]}
    assert notes_spec["input"] == {"issue": 7, "commit": fix["review"]["mergeCommit"]}

    status = mesh_status(stack, "flow")
    assert status["lastExecution"] == execution
    assert status["agentsSummary"] == "3/3"
    assert (status["activeRuns"], status["awaitingReview"]) == (0, 0)
    assert status["costTodayUSD"] > 0
    table = stack.kubectl("get", "msh")
    assert table.splitlines()[0].split() == [
        "NAME",
        "READY",
        "AGENTS",
        "ACTIVE",
        "AWAITING",
        "REVIEW",
        "COST",
        "TODAY",
        "AGE",
    ]
    assert table.splitlines()[1].split()[:4] == ["flow", "True", "3/3", "0"], table
    assert {"ExecutionStarted", "RunCreated"} <= set(stack.events("flow"))
    stack.assert_no_secrets()


def test_closing_a_pull_request_stops_the_branch(review_stack: ReviewStack) -> None:
    stack = review_stack
    setup_agents(stack, "triage", "fix", "notes")
    stack.apply(mesh_manifest("flow", {"triage": "triage", "fix": "fix", "notes": "notes"}, CHAIN))
    stack.apply(root_run("bug-8", "flow", "triage", issue=8))
    status = stack.awaiting_review("bug-8")
    stack.pull(status["review"]["number"]).edit(state="closed")
    assert stack.finished("bug-8")["phase"] == "Rejected"
    stack.wait_until("the mesh to report the stopped branch", lambda: "BranchStopped" in stack.events("flow"))
    assert [run["metadata"]["name"] for run in stack.runs()] == ["bug-8"]


def test_fan_in_waits_for_every_upstream(review_stack: ReviewStack) -> None:
    stack = review_stack
    setup_agents(stack, "plan", "docs", "code", "ship")
    edges = [
        {"from": "plan", "to": "docs"},
        {"from": "plan", "to": "code"},
        {"from": "docs", "to": "ship", "input": {"docs": "${upstreams.docs.review.url}"}},
        {"from": "code", "to": "ship", "input": {"code": "${upstreams.code.review.url}"}},
    ]
    stack.apply(mesh_manifest("diamond", {n: n for n in ("plan", "docs", "code", "ship")}, edges))
    stack.apply(root_run("plan-1", "diamond", "plan"))
    merge(stack, "plan-1")
    docs, code, ship = (node_run("diamond", "plan-1", node) for node in ("docs", "code", "ship"))
    merged_docs = merge(stack, docs)

    def docs_seen_by_mesh() -> bool:
        reviews = mesh_status(stack, "diamond").get("pendingReviews") or []
        return [review["run"] for review in reviews] == [code]

    stack.wait_until("the mesh to see docs merged while code awaits review", docs_seen_by_mesh, timeout=90)
    assert ship not in {run["metadata"]["name"] for run in stack.runs()}, "ship started before code was merged"
    merged_code = merge(stack, code)
    merge(stack, ship)
    assert stack.run(ship)["spec"]["input"] == {
        "docs": merged_docs["review"]["url"],
        "code": merged_code["review"]["url"],
    }
    assert stack.run(ship)["metadata"]["annotations"]["atomesh.io/upstream-runs"] == ",".join(sorted([code, docs]))
