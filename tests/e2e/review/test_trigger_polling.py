"""Event triggers without inbound webhooks: the real operator polls the GitHub emulator's repository
events API (`trigger_poll_interval_seconds`), and opening an issue starts exactly one `issue-triage`
run; the poller's next requests carry the ETag and get 304 (no rate limit spent). A module of its own,
so its emulator holds no other module's recent events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from atomesh.controller.main import OperatorThread
from atomesh.devstack.github import traffic
from atomesh.forge.github import GitHubForge, RetryPolicy
from atomesh.kube.resources import AGENTS
from tests.e2e.review.conftest import RecordingSleep, ReviewCluster, ReviewStack, edit_turns, operator_config
from tests.e2e.review.test_triggers import agent_ready, issue_triage, triggered_runs

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
POLL_SECONDS = 1.0


@pytest.fixture
def polling_operator(review_cluster: ReviewCluster) -> Iterator[OperatorThread]:
    github = review_cluster.github
    github.emulator.dispatcher.activity.poll_interval = int(POLL_SECONDS)  # GitHub says 60
    forge = GitHubForge(github.url, github.bot_token, sleep=RecordingSleep(), retry=RetryPolicy(base_delay=0.2))
    config = operator_config(github, 30.0).model_copy(update={"trigger_poll_interval_seconds": POLL_SECONDS})
    thread = OperatorThread(config, str(review_cluster.kube_api.kubeconfig), [], all_namespaces=True, forge=forge)
    thread.start()  # no webhook secret and no hook: the events API is the only source
    try:
        yield thread
    finally:
        thread.stop()


def test_with_webhooks_off_an_opened_issue_starts_exactly_one_run_by_polling(
    review_stack: ReviewStack, polling_operator: OperatorThread
) -> None:
    stack = review_stack
    model_url = stack.script(edit_turns({f"docs/triage/{stack.namespace}.md": "# Triage\n"}, "Triaged."))
    issue_triage(stack, model_url)
    agent_ready(stack, "issue-triage")
    assert stack.github.emulator.deliveries() == [], "no webhook is subscribed"

    issue = stack.repo().create_issue(title=f"Polled ({stack.namespace})", body="Found by polling.")
    [run] = stack.wait_until("the polled run", lambda: triggered_runs(stack, "issue-triage"), timeout=30)
    assert run["spec"]["input"] == {"issue": issue.number, "summary": issue.title}
    assert run["metadata"]["annotations"]["atomesh.io/delivery"].startswith("event-")

    # The poller's later polls carry the ETag: unchanged pages are 304s, and no second run starts
    # (the operator's own replies on the issue are new events, which start nothing).
    forge = GitHubForge(stack.github.url, stack.github.bot_token, sleep=lambda _: None)
    first = forge.repository_events(stack.repo_name, None)
    assert first.status == 200
    assert first.headers["x-poll-interval"] == str(int(POLL_SECONDS))
    assert [event["type"] for event in first.data][-1] == "IssuesEvent"  # newest first
    assert forge.repository_events(stack.repo_name, first.etag).status == 304
    seen: list[traffic.Exchange] = []
    unsubscribe = traffic.subscribe(seen.append)
    try:
        stack.wait_until(
            "the operator's conditional polls",
            lambda: sum(e.route.endswith("/events") and e.status == 304 for e in list(seen)) >= 2,
            timeout=15,
        )
    finally:
        unsubscribe()
    assert len(triggered_runs(stack, "issue-triage")) == 1
    stack.awaiting_review(run["metadata"]["name"])
    stack.kube.delete(AGENTS, stack.namespace, "issue-triage")
