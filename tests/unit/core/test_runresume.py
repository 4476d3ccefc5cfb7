"""plan_paused: a Paused run stays, resumes when its per-run limit is raised or on the resume annotation,
waits for a spent window, or is cancelled; and runphase turns publish's `paused` outcome into Paused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from core_builders import agent, run, snapshot

from atomesh.api import conditions as c
from atomesh.api.agentrun import AgentRun, AgentRunStatus, Usage
from atomesh.api.constants import ANNOTATION_RESUME
from atomesh.api.runfile import RunFile
from atomesh.core.budget import BudgetBlock
from atomesh.core.config import OperatorConfig
from atomesh.core.plan import Create, Plan
from atomesh.core.pod import RUN_FILE_ANNOTATION, runner_pod_name
from atomesh.core.requeue import Waiting
from atomesh.core.runphase import PodObservation, StepState, plan_from_pod
from atomesh.core.runresume import plan_paused
from atomesh.core.runstart import run_status_plan

NOW = "2026-12-01T10:00:00Z"
CONFIG = OperatorConfig(runner_image="ghcr.io/atomesh/runner:test")
SPENT = Usage(input_tokens=9000, output_tokens=1000, cost_usd=0.105, turns=3)
PAUSED = AgentRunStatus(
    phase="Paused",
    reason=c.BUDGET_EXCEEDED_REASON,
    message="paused at its limit",
    agent=snapshot(limits={"timeout": "15m", "maxCostUSD": 0.1}),
    pod_name="tidy-1-runner",
    start_time="2026-12-01T09:00:00Z",
    usage=SPENT,
)


def paused(the_run: AgentRun | None = None, status: AgentRunStatus = PAUSED, **kwargs: Any) -> Plan:
    kwargs.setdefault("agent", agent(limits={"timeout": "15m", "maxCostUSD": 0.1}))
    return plan_paused(the_run or run(), status, revision=None, config=CONFIG, now=NOW, generation=1, **kwargs)


def annotated(value: str) -> AgentRun:
    the_run = run()
    the_run.metadata.annotations[ANNOTATION_RESUME] = value
    return the_run


def test_a_paused_run_stays_while_its_limit_is_spent() -> None:
    assert paused() == Plan()
    assert paused(agent=None) == Plan()  # its Agent is gone: nothing to raise


def test_raising_the_per_run_limit_resumes_it_in_a_new_pod_that_counts_the_spend() -> None:
    plan = paused(agent=agent(limits={"timeout": "15m", "maxCostUSD": 0.5}))
    (create,) = plan.actions
    assert isinstance(create, Create)
    pod = dict(create.manifest)
    assert pod["metadata"]["name"] == runner_pod_name("tidy-1", 2) == "tidy-1-runner-2"
    run_file = RunFile.model_validate_json(pod["metadata"]["annotations"][RUN_FILE_ANNOTATION])
    assert (run_file.attempt, run_file.spent) == (2, SPENT)
    assert run_file.spec.limits.max_cost_usd == 0.5  # the raised limit, in the same revision
    (event,) = create.on_created
    assert (event.type, event.reason) == ("Normal", c.RESUMED)
    assert "attempt 2" in event.message
    assert "per-run limit has room ($0.1050 of $0.5 spent)" in event.message
    status = AgentRunStatus.model_validate(plan.status)
    assert (status.phase, status.reason, status.attempt, status.pod_name) == (
        "Pending",
        c.POD_CREATED,
        2,
        "tidy-1-runner-2",
    )
    assert status.usage == SPENT
    assert status.agent is not None
    assert status.agent.revision == PAUSED.agent.revision  # type: ignore[union-attr]
    assert plan.events == ()  # the pod's creation announces the resume, once


def test_a_raise_of_budget_per_run_counts_only_where_it_is_the_lower_limit() -> None:
    still = agent(limits={"timeout": "15m", "maxCostUSD": 0.1}, budget={"perRun": {"usd": 5}})
    assert paused(agent=still) == Plan()
    tokens = AgentRunStatus.model_validate({**PAUSED.model_dump(), "reason": c.TOKENS_EXCEEDED})
    over_tokens = agent(limits={"timeout": "15m", "maxCostUSD": 1}, budget={"perRun": {"tokens": 10_000}})
    assert paused(status=tokens, agent=over_tokens) == Plan()
    assert paused(status=tokens, agent=agent(limits={"timeout": "15m", "maxTokens": 20_000})).actions


def test_the_resume_annotation_resumes_once_per_value() -> None:
    plan = paused(annotated("2026-12-01T10:00"))
    status = AgentRunStatus.model_validate(plan.status)
    assert (status.phase, status.last_handled_resume, status.attempt) == ("Pending", "2026-12-01T10:00", 2)
    (create,) = plan.actions
    assert f"{ANNOTATION_RESUME}=2026-12-01T10:00" in create.on_created[0].message  # type: ignore[union-attr]
    # Paused again on attempt 2: the same value does not resume it again; a new one does.
    again = status.model_copy(update={"phase": "Paused", "reason": c.BUDGET_EXCEEDED_REASON})
    assert paused(annotated("2026-12-01T10:00"), again) == Plan()
    third = paused(annotated("2026-12-01T11:00"), again)
    assert AgentRunStatus.model_validate(third.status).pod_name == "tidy-1-runner-3"


def test_a_spent_window_keeps_it_paused_until_the_window_opens() -> None:
    opens = datetime(2026, 12, 2, tzinfo=UTC)
    block = BudgetBlock("Agent/tidy perDay: $5.0000 of $5 spent; waiting until 2026-12-02T00:00:00Z", opens)
    plan = paused(annotated("now"), budget=block)
    assert plan.actions == ()
    assert isinstance(plan.requeue, Waiting)
    assert plan.requeue.after == 14 * 3600
    status = AgentRunStatus.model_validate(plan.status)
    assert status.phase == "Paused"
    assert "resuming waits for a budget window: Agent/tidy perDay" in (status.message or "")


def test_cancel_ends_a_paused_run() -> None:
    plan = paused(run(cancel=True))
    status = AgentRunStatus.model_validate(plan.status)
    assert (status.phase, status.reason, status.completion_time) == ("Cancelled", c.CANCELLED, NOW)


def test_publish_paused_outcome_makes_the_run_paused_with_its_spend() -> None:
    summary = {
        "outcome": "paused",
        "reason": "TokensExceeded",
        "usage": {"inputTokens": 9000, "outputTokens": 1000, "costUSD": 0.105, "turns": 3},
        "message": "paused at its limit: tokens",
    }
    steps = tuple(
        StepState(name, "terminated", 0, message=json.dumps(summary) if name == "publish" else "")
        for name in ("checkout", "agent", "publish")
    )
    running = AgentRunStatus(phase="Running", pod_name="tidy-1-runner")
    plan = plan_from_pod(running, cancel=False, pod=PodObservation("tidy-1-runner", "Succeeded", steps=steps), now=NOW)
    status = plan.status
    assert (status.phase, status.reason, status.usage, status.artifact) == ("Paused", c.TOKENS_EXCEEDED, SPENT, None)
    assert status.message == "paused at its limit: tokens"
    assert status.completion_time is None  # not finished: it resumes
    (event,) = run_status_plan(running, status).events
    assert (event.type, event.reason, event.message) == ("Warning", c.TOKENS_EXCEEDED, "paused at its limit: tokens")
