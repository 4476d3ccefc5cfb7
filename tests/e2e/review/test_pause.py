"""Pause, not kill, end to end with Claude Code: a run that reaches its per-run dollar limit mid-flight is
refused its next model request by the model proxy, becomes Paused with its session kept at its ref; asked
to resume (atomesh.io/resume) without room it pauses again at once; once the limit is raised, it resumes in
a new runner pod (the model sees its earlier turns) to a pull request
carrying the work of both attempts; its spend stays within the limit plus one turn."""

from __future__ import annotations

import pytest

from atomesh.pricing import price_of
from tests.e2e.review.conftest import MODEL, ReviewStack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]

TURN_USAGE = {"input_tokens": 20_000, "output_tokens": 100}
LIMIT_USD = 0.1


def test_a_run_at_its_limit_pauses_and_resumes_to_a_pull_request_when_raised(review_stack: ReviewStack) -> None:
    stack = review_stack
    ns = stack.namespace
    first, second = f"docs/{ns}/first.md", f"docs/{ns}/second.md"
    stack.script(
        [
            {"tools": [{"tool": "write_file", "input": {"path": first, "content": "# First\n"}}], "usage": TURN_USAGE},
            # This answer crosses the limit: its tool still runs, the next request is refused.
            {
                "tools": [{"tool": "write_file", "input": {"path": second, "content": "# Second\n"}}],
                "usage": TURN_USAGE,
            },
            {"text": "Both pages are written.", "usage": {"input_tokens": 1000, "output_tokens": 20}},
        ]
    )
    manifest = stack.agent("pager", "doc", ["docs/**"])
    manifest["spec"]["harness"]["kind"] = "claude-code"
    manifest["spec"]["limits"] = {"timeout": "3m", "maxCostUSD": LIMIT_USD}
    stack.apply(manifest)
    stack.kubectl("wait", "--for=condition=Ready", "agent/pager", "--timeout=30s")

    stack.start_run("pager-1", "pager")
    paused = stack.wait_phase("pager-1", {"Paused", "AwaitingReview", "Failed"}, timeout=90)
    assert (paused["phase"], paused["reason"]) == ("Paused", "BudgetExceeded"), paused.get("message")
    price = price_of(MODEL)
    assert price is not None
    one_turn = price.cost(TURN_USAGE["input_tokens"], TURN_USAGE["output_tokens"])
    assert LIMIT_USD <= paused["usage"]["costUSD"] <= LIMIT_USD + one_turn
    assert stack.repo().get_git_ref("atomesh/sessions/pager-1").ref == "refs/atomesh/sessions/pager-1"
    assert "review" not in paused  # nothing was published
    # The model proxy stopped it: the refused request never reached the model.
    assert "it is paused" in paused["message"]
    assert "(limits.maxCostUSD, budget.perRun.usd)" in paused["message"]
    assert stack.model is not None
    attempt_one = len(stack.model.requests)
    assert attempt_one == 2

    # Asked to resume without room, it pauses again at once, before any model request.
    stack.kubectl("annotate", "agr", "pager-1", "atomesh.io/resume=first")

    def paused_again() -> dict[str, object] | None:
        status = stack.wait_phase("pager-1", {"Paused", "Pending", "Running", "AwaitingReview", "Failed"})
        ended = status["phase"] in ("Paused", "AwaitingReview", "Failed")
        return status if status.get("attempt") == 2 and ended else None

    again = stack.wait_until("attempt 2 to pause again", paused_again, timeout=90)
    assert (again["phase"], again["lastHandledResume"], again["usage"]) == ("Paused", "first", paused["usage"])
    assert len(stack.model.requests) == attempt_one

    manifest["spec"]["limits"]["maxCostUSD"] = 1.0
    stack.apply(manifest)
    resumed = stack.awaiting_review("pager-1", timeout=120)
    assert (resumed["attempt"], resumed["podName"]) == (3, "pager-1-runner-3")
    later = [r.body for r in stack.model.requests[attempt_one:] if r.body.get("tools")]
    assert later, "the resumed attempt made no model request"
    assert first in str(later[0]["messages"]), "the resumed attempt does not carry the earlier turns"
    files = sorted(f.filename for f in stack.pull(resumed["review"]["number"]).get_files())
    assert files == [first, second]
    assert paused["usage"]["costUSD"] < resumed["usage"]["costUSD"] <= 1.0
    assert "Resumed" in stack.events("pager-1")
    stack.assert_no_secrets()
