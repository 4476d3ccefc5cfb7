"""What the supervision views need of one AgentRun, read once: its times parsed, its review and cost.

Pure. A console watching 20,000 runs keeps these small records (computed when a run changes) instead of
re-reading every run's whole status for every view; `run_facts` is the only place that reads an
AgentRun for supervision, so the views agree on what a run's times, cost and verdict are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from atomesh.api.agentrun import AgentRun
from atomesh.api.constants import LABEL_MESH, LABEL_MESH_EXECUTION, LABEL_MESH_NODE
from atomesh.core.schedule import parse_rfc3339

Verdict = Literal["passed", "failed", "none"]


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None for none or an unreadable one (a status written by
    something else must not break the whole view)."""
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RunFacts:
    """One run as the supervision views see it."""

    namespace: str
    name: str
    agent: str
    phase: str
    reason: str = ""
    message: str = ""
    created: datetime | None = None
    started: datetime | None = None
    published: datetime | None = None
    decided: datetime | None = None
    completed: datetime | None = None
    cost_usd: float = 0.0
    artifact_type: str | None = None
    verdict: Verdict = "none"
    pr_url: str | None = None
    pr_number: int | None = None
    pr_state: str | None = None
    revision: int = 0
    revision_run: str | None = None
    failure_reason: str = ""
    failure_message: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def mesh(self) -> str | None:
        return self.labels.get(LABEL_MESH)

    @property
    def mesh_node(self) -> str:
        return self.labels.get(LABEL_MESH_NODE, "")

    @property
    def mesh_execution(self) -> str | None:
        return self.labels.get(LABEL_MESH_EXECUTION)

    @property
    def review_started(self) -> datetime | None:
        """When the artifact was handed to review (falling back to when the run started, then was created)."""
        return self.published or self.started or self.created

    @property
    def duration(self) -> float | None:
        """Seconds the run worked: from start to publishing its artifact, or to its end; None while it works."""
        end = self.published or self.completed
        if self.started is None or end is None or end < self.started:
            return None
        return (end - self.started).total_seconds()


def run_facts(run: AgentRun) -> RunFacts:
    status = run.status
    review = status.review if status else None
    failure = status.failure if status else None
    checks = review.checks_passed if review else None
    return RunFacts(
        namespace=run.metadata.namespace or "",
        name=run.metadata.name,
        agent=run.spec.agent_ref.name,
        phase=status.phase if status else "Pending",
        reason=(status.reason if status else None) or "",
        message=(status.message if status else None) or "",
        created=parse_time(run.metadata.creation_timestamp),
        started=parse_time(status.start_time if status else None),
        published=parse_time(review.published_at if review else None),
        decided=parse_time(review.decided_at if review else None),
        completed=parse_time(status.completion_time if status else None),
        cost_usd=status.usage.cost_usd if status and status.usage else 0.0,
        artifact_type=status.artifact.type if status and status.artifact else None,
        verdict="none" if checks is None else ("passed" if checks else "failed"),
        pr_url=review.url if review else None,
        pr_number=review.number if review else None,
        pr_state=review.state if review else None,
        revision=review.revision if review else 0,
        revision_run=review.revision_run if review else None,
        failure_reason=failure.reason if failure else "",
        failure_message=failure.message if failure else "",
        labels=dict(run.metadata.labels),
    )


def as_facts(run: AgentRun | RunFacts) -> RunFacts:
    return run if isinstance(run, RunFacts) else run_facts(run)
