"""Each artifact type end to end: kubectl apply of an Agent and an AgentRun → the scripted model
edits files in the real runner pod → a pull request with the type's verification surface → the
reviewer merges it through the REST API → the run is Succeeded with the merge recorded.

The four runs start together (one namespace, one model emulator per agent) so the module pays
for one runner pod's time, not four; each type is then checked and merged by its own test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.kube.client import RestKube
from atomesh.review import parse_provenance
from tests.e2e.review.conftest import (
    MODEL,
    ReviewCluster,
    ReviewStack,
    RunningOperator,
    edit_turns,
    make_review_namespace,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class ArtifactCase:
    paths: list[str]
    files: dict[str, str]
    sections: tuple[str, ...]  # headings the type's surface puts in the body
    checks: tuple[dict[str, str], ...] = ()


CASES: dict[str, ArtifactCase] = {
    "code": ArtifactCase(
        paths=["src/**", "tests/**"],
        files={
            "src/sample_app/greeting.py": '"""Greetings, politely."""\n\n\n'
            "def greet(name: str) -> str:\n"
            '    """Return a greeting for `name`."""\n'
            '    return f"Hello, {name.strip()}!"\n'
        },
        sections=("### Changes", "### Checks"),
        checks=({"name": "greeting", "run": "grep -q strip src/sample_app/greeting.py"},),
    ),
    "doc": ArtifactCase(
        paths=["docs/**"],
        files={
            "docs/usage.md": '# Usage\n\n```python\nfrom sample_app import greet\nprint(greet("Ada"))\n```\n\n'
            "## Configuration\n\nSettings live in `config/app.yaml`.\n\n"
            "## Troubleshooting\n\nRun `pytest` first.\n"
        },
        sections=("### Changed sections", "### Preview"),
    ),
    "config": ArtifactCase(
        paths=["config/**"],
        files={
            "config/app.yaml": 'greeting:\n  language: en\n  punctuation: "!"\nserver:\n  port: 8080\n  workers: 4\n'
            "features:\n  metrics: true\n  tracing: false\n"
        },
        sections=("### Key changes",),
    ),
    "data": ArtifactCase(
        paths=["data/**"],
        files={
            "data/cities.csv": "city,country,population\nBerlin,DE,3755251\nLisbon,PT,545923\n"
            "Nairobi,KE,4397073\nOsaka,JP,2752412\nQuito,EC,2800388\nTallinn,EE,457572\n"
        },
        sections=("### Table changes",),
    ),
}


@pytest.fixture(scope="module")
def artifacts(review_cluster: ReviewCluster, review_operator: RunningOperator) -> Iterator[ReviewStack]:
    """One namespace; an Agent and an AgentRun per artifact type, all started at once."""
    namespace = make_review_namespace(review_cluster, "rv-artifacts")
    kube = RestKube.from_kubeconfig(str(review_cluster.kube_api.kubeconfig))
    models: list[AnthropicEmulator] = []

    def start_model(cassette: object) -> AnthropicEmulator:
        emulator = AnthropicEmulator(cassette).start()  # type: ignore[arg-type]
        models.append(emulator)
        return emulator

    stack = ReviewStack(review_cluster.kube_api, kube, namespace, cluster=review_cluster, start_model=start_model)
    try:
        for artifact, case in CASES.items():
            model = start_model(edit_turns(case.files, f"Updated the {artifact}."))
            review = {"checks": list(case.checks)} if case.checks else None
            stack.agent(f"{artifact}-agent", artifact, case.paths, review=review, model_url=model.url)
            stack.start_run(f"{artifact}-1", f"{artifact}-agent", topic=artifact)
        yield stack
    finally:
        for model in models:
            model.stop()
        kube.close()


@pytest.mark.parametrize("artifact", list(CASES))
def test_artifact_pull_request_merged_by_reviewer(artifacts: ReviewStack, artifact: str) -> None:
    stack, case = artifacts, CASES[artifact]
    agent, run = f"{artifact}-agent", f"{artifact}-1"

    status = stack.awaiting_review(run)
    review = status["review"]
    assert review["repo"] == stack.repo_name
    assert review["state"] == "open"
    assert status["artifact"]["type"] == artifact
    assert sorted(status["artifact"]["files"]) == sorted(case.files)

    pull = stack.pull(review["number"])
    assert pull.state == "open"
    assert pull.head.ref == status["artifact"]["branch"] == f"atomesh/{agent}/{run}"
    assert pull.head.sha == status["artifact"]["commit"]
    assert pull.title.startswith(f"[atomesh] {agent}: ")
    assert {label.name for label in pull.labels} >= {"atomesh", f"artifact:{artifact}", f"agent:{agent}"}
    body = pull.body or ""
    for heading in (*case.sections, "### Provenance"):
        assert heading in body, f"{artifact} PR body lacks {heading!r}"
    provenance = parse_provenance(body)
    assert provenance is not None, "the PR body carries no parseable provenance comment"
    assert provenance["agent"] == agent
    assert provenance["namespace"] == stack.namespace
    assert provenance["run"] == run
    assert provenance["harness"] == "litellm"
    assert provenance["model"] == MODEL
    assert provenance["revision"] == 0
    assert provenance["agentRevision"] == status["agent"]["revision"]
    assert sorted(f.filename for f in pull.get_files()) == sorted(case.files)
    check_runs = {check.name: check.conclusion for check in stack.repo().get_commit(pull.head.sha).get_check_runs()}
    assert f"atomesh/{artifact}" in check_runs

    result = pull.merge(merge_method="merge")
    assert result.merged

    final = stack.finished(run)
    assert final["phase"] == "Succeeded", final.get("message")
    assert final["reason"] == "Merged"
    assert final["review"]["state"] == "merged"
    assert final["review"]["decidedBy"] == stack.github.reviewer
    assert final["review"]["decidedAt"]
    assert final["review"]["mergeCommit"] == stack.pull(review["number"]).merge_commit_sha == result.sha
    assert stack.event_count(run, "Merged") == 1
    stack.assert_no_secrets()


def test_claude_code_harness_pull_request_merged(
    review_stack: ReviewStack, review_operator: RunningOperator, claude_cli: str
) -> None:
    """The same loop with Claude Code as the harness (skipped when its CLI is not installed)."""
    stack = review_stack
    files = {f"docs/{stack.namespace}.md": "# Claude\n\nWritten through Claude Code.\n"}
    stack.script(edit_turns(files, "Added a page."))
    agent = stack.agent("claude-docs", "doc", ["docs/**"])
    agent["spec"]["harness"]["kind"] = "claude-code"
    stack.apply(agent)
    stack.start_run("claude-1", "claude-docs")

    status = stack.awaiting_review("claude-1", timeout=150)
    assert status["artifact"]["files"] == list(files)
    pull = stack.pull(status["review"]["number"])
    provenance = parse_provenance(pull.body or "")
    assert provenance is not None
    assert provenance["harness"] == "claude-code"
    assert stack.model is not None
    assert any(request.harness == "claude-code" for request in stack.model.requests)
    assert pull.merge().merged
    final = stack.finished("claude-1")
    assert final["phase"] == "Succeeded"
    assert final["review"]["decidedBy"] == stack.github.reviewer
    stack.assert_no_secrets()
