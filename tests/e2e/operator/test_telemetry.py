"""What the operator tells monitoring about one run that a person merges: /metrics scraped from its
endpoint and read with Prometheus' own parser, and the run's trace received by an OTLP/HTTP receiver
and decoded with the official protobuf classes.

The stand-in runner publishes onto a real pull request of the GitHub emulator; the reviewer merges it
through the REST API and the operator's review loop (polling) records the decision.
"""

from __future__ import annotations

import itertools
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from atomesh.controller.main import OperatorThread
from atomesh.core.config import OperatorConfig
from atomesh.forge.github import GitHubForge
from atomesh.kube.client import RestKube
from tests.e2e.operator.conftest import (
    OPERATOR_USER,
    TEST_IMAGE,
    Stack,
    agent_manifest,
    make_namespace,
    operator_kubeconfig,
    run_manifest,
)
from tests.fixtures.github import GitHubEmulatorHandle, start_github_emulator
from tests.fixtures.kube import SecuredKubeAPI
from tests.fixtures.otlp import OtlpReceiver, ReceivedSpan

pytestmark = pytest.mark.e2e
NAMESPACE = "t-telemetry"
SPAN_KIND_INTERNAL = 1  # opentelemetry.proto.trace.v1.Span.SpanKind
STATUS_CODE_ERROR = 2


def scrape(operator: OperatorThread) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (name, sorted labels)."""
    with urllib.request.urlopen(f"{operator.metrics_url}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


@dataclass
class MergedRun:
    stack: Stack
    github: GitHubEmulatorHandle
    status: dict[str, Any]
    uid: str
    waiting: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    decided: dict[tuple[str, tuple[tuple[str, str], ...]], float]
    receiver: OtlpReceiver
    writes: Counter[str]  # the operator's writes from the run's creation to its decision, settled


@pytest.fixture(scope="module")
def merged_run(cluster: SecuredKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MergedRun]:
    github = start_github_emulator(tmp_path_factory.mktemp("github"))
    kube = RestKube.from_kubeconfig(str(cluster.kubeconfig))
    with OtlpReceiver() as receiver, pytest.MonkeyPatch.context() as env:
        env.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.traces_endpoint)
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")  # milliseconds: export soon after a run ends
        repo = github.seed_sample_app()
        github.push_branch(repo, "atomesh/tidy/obs-1", {"README.md": "# Sample app\n\nTidied.\n"})
        pull = (
            github.client(github.bot_token)
            .get_repo(repo)
            .create_pull(title="Tidy the README", body="", head="atomesh/tidy/obs-1", base="main")
        )
        make_namespace(cluster, NAMESPACE)
        config = OperatorConfig(
            runner_image=TEST_IMAGE,
            forge_api_url=github.url,
            forge_git_url=github.git_url,
            review_poll_interval_seconds=0.5,
        )
        forge = GitHubForge(github.url, github.bot_token)
        operator = OperatorThread(config, str(operator_kubeconfig(cluster)), [NAMESPACE], forge=forge)
        try:
            with operator:
                stack = Stack(cluster, kube, NAMESPACE)
                stack.apply(agent_manifest(workspace={"repo": repo, "baseBranch": "main"}))
                stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")
                before = settled_writes(cluster, operator)
                review = {"repo": repo, "number": pull.number, "url": pull.html_url}
                stack.apply(run_manifest("obs-1", mode="publish", pull=review))
                stack.wait_phase("obs-1", {"AwaitingReview", "Failed"})
                waiting = stack.wait_for("the queue depth of 1", lambda: (s := scrape(operator)) and depth(s) and s)
                assert github.client(github.reviewer_token).get_repo(repo).get_pull(pull.number).merge().merged
                status = stack.wait_phase("obs-1", {"Succeeded", "Rejected", "Failed"})
                decided = stack.wait_for("the acceptance ratio", lambda: (s := scrape(operator)) and accepted(s) and s)
                uid = stack.run("obs-1")["metadata"]["uid"]
                settled_writes(cluster, operator)
                writes = Counter(
                    f"{w.verb} {w.resource}{'/' + w.subresource if w.subresource else ''}"
                    for w in cluster.access.writes(OPERATOR_USER, NAMESPACE)[before:]
                )
                yield MergedRun(stack, github, status, uid, waiting, decided, receiver, writes)
        finally:
            kube.close()
            github.close()


LABELS = (("agent", "tidy"), ("namespace", NAMESPACE))


def settled_writes(cluster: SecuredKubeAPI, operator: OperatorThread, seconds: float = 1.5) -> int:
    """The operator's write count in the namespace once it stopped changing for `seconds` (a count, not a timing)."""
    count, since = -1, time.monotonic()
    while True:
        operator.events.flush()
        now = len(cluster.access.writes(OPERATOR_USER, NAMESPACE))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return count
        time.sleep(0.2)


def depth(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float | None:
    return samples.get(("atomesh_review_queue_depth", LABELS))


def accepted(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float | None:
    return samples.get(("atomesh_acceptance_ratio", LABELS))


def test_metrics_follow_the_review_queue_and_the_decision(merged_run: MergedRun) -> None:
    assert merged_run.status["phase"] == "Succeeded"
    assert depth(merged_run.waiting) == 1
    assert depth(merged_run.decided) == 0
    merged = (("decision", "merged"), ("namespace", NAMESPACE))
    assert ("atomesh_review_wait_seconds_count", merged) not in merged_run.waiting
    assert merged_run.decided[("atomesh_review_wait_seconds_count", merged)] == 1
    assert merged_run.decided[("atomesh_review_wait_seconds_bucket", (*merged[:1], ("le", "+Inf"), merged[1]))] == 1
    assert accepted(merged_run.decided) == 1.0
    assert merged_run.decided[("atomesh_runs", (("phase", "Succeeded"),))] == 1
    reviews = merged_run.stack.kubectl("get", "agent", "tidy", "-o", "jsonpath={.status.reviews}")
    assert '"acceptanceRate":1' in reviews
    assert '"merged":1' in reviews


def test_a_lifecycle_through_the_merge_takes_seven_writes_of_the_run_and_two_rollups(merged_run: MergedRun) -> None:
    """The run's own writes: its pod; its status at Pending, Running, AwaitingReview and Succeeded; the
    Events of the outcomes, the pull request's and the merge's (the start is the status's news). Its
    Agent's rollup follows (coalesced over the run's quick phase changes, and over the runs of a
    burst): once when the work ends, once at the decision. Nothing else: no kopf bookkeeping, no
    ConfigMap."""
    writes = merged_run.writes
    print(f"operator writes through the merge: {sum(writes.values())}: {dict(writes)}")
    assert writes["create pods"] == 1
    assert writes["patch agentruns/status"] == 4
    assert writes["create events"] + writes["patch events"] == 2
    assert writes["patch agents/status"] <= 2
    assert sum(writes.values()) <= 9, writes
    assert set(writes) <= {
        "create pods",
        "patch agentruns/status",
        "create events",
        "patch events",
        "patch agents/status",
    }


def test_the_run_is_one_trace_under_invoke_agent_with_its_usage(merged_run: MergedRun) -> None:
    trace_id = merged_run.uid.replace("-", "")
    spans = merged_run.receiver.wait_for_trace(trace_id, 8)
    assert len(spans) == 8, "each span is exported once"
    by_name = {span.name: span for span in spans}
    root = by_name["invoke_agent tidy"]
    phases = {"Pending", "Running", "AwaitingReview", "decision merged"}
    steps = {"checkout", "agent", "publish"}
    assert set(by_name) == {"invoke_agent tidy", *phases, *steps}
    assert root.parent_span_id == ""
    assert {by_name[name].parent_span_id for name in phases} == {root.span_id}
    assert {by_name[name].parent_span_id for name in steps} == {by_name["Running"].span_id}
    assert [by_name[name].attributes["atomesh.step.exit_code"] for name in ("checkout", "agent", "publish")] == [
        0,
        0,
        0,
    ]
    recorded = [step["name"] for step in merged_run.status["steps"]]
    assert recorded == ["checkout", "agent", "publish"]
    assert {span.kind for span in spans} == {SPAN_KIND_INTERNAL}
    usage = merged_run.status["usage"]
    attributes = root.attributes
    assert attributes["gen_ai.operation.name"] == "invoke_agent"
    assert (attributes["gen_ai.agent.name"], attributes["gen_ai.agent.id"]) == ("tidy", f"{NAMESPACE}/tidy")
    assert attributes["gen_ai.request.model"] == "claude-sonnet-4-5"
    assert attributes["gen_ai.provider.name"] == "anthropic"
    assert attributes["gen_ai.usage.input_tokens"] == usage["inputTokens"]
    assert attributes["gen_ai.usage.output_tokens"] == usage["outputTokens"]
    assert attributes["atomesh.pull_request.url"] == merged_run.status["review"]["url"]
    assert (attributes["atomesh.namespace"], attributes["atomesh.run"]) == (NAMESPACE, "obs-1")
    assert root.resource["service.name"] == "atomesh-operator"
    assert root.status_code != STATUS_CODE_ERROR
    assert_in_order(root, by_name)
    assert_no_secrets(spans, merged_run.github)


def assert_in_order(root: ReceivedSpan, by_name: dict[str, ReceivedSpan]) -> None:
    phases = [by_name[name] for name in ("Pending", "Running", "AwaitingReview", "decision merged")]
    assert root.start_ns <= phases[0].start_ns
    for before, after in itertools.pairwise(phases):
        assert before.end_ns <= after.start_ns + 1_000_000_000  # status times have whole seconds
    assert phases[-1].end_ns <= root.end_ns


def assert_no_secrets(spans: list[ReceivedSpan], github: GitHubEmulatorHandle) -> None:
    text = repr(spans)
    for secret in (github.bot_token, github.reviewer_token, "not-a-real-token", "not-a-real-api-key"):
        assert secret not in text, "a credential reached a span attribute"
