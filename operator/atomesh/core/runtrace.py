"""A finished run's lifecycle as one trace, in OpenTelemetry's GenAI semantic conventions.

Pure: the trace is read from the run's status timestamps alone (metadata.creationTimestamp,
status.startTime, review.publishedAt, review.decidedAt, status.completionTime), so whoever computes
it, whenever, gets the same trace; an adapter exports it.

Invariants:
- One trace per run: its id is the run's uid (a UUID's 128 bits), the id the model proxy sends LiteLLM
  as `x-litellm-trace-id`, so a gateway's spend logs and the trace name the same run. Span ids are
  derived from the uid and the span's name, so exporting a run twice repeats the same spans.
- Only a run in a terminal phase with a uid and a creation time has a trace.
- The root span is `invoke_agent <agent>` (gen_ai.operation.name `invoke_agent`, kind INTERNAL), from
  the run's creation to its completion; `gen_ai.usage.*` are the run's `status.usage` tokens.
- Its children, each present only when both its times are known and in order: `Pending` (created →
  started), `Running` (started → the pod's work ended: the artifact's hand-over, or the run's end),
  `AwaitingReview` (hand-over → decision, or the run's end) and `decision <state>` (a zero-length span
  at the decision: merged, closed or changesRequested). Under `Running`, a span per runner step that
  ran (`checkout`, `agent`, `publish`, from `status.steps`: its container's start and end).
- A Failed run's root span carries the run's reason as error.type, and so does the step that exited
  non-zero (or, when none did, the last phase span).
- Attributes carry names, counts, times and the pull request's URL: never input, feedback, messages,
  logs or anything read from a Secret.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from atomesh.api.agentrun import TERMINAL_PHASES, AgentRun
from atomesh.core.supervision_facts import parse_time

Attribute = str | int | float | bool
INVOKE_AGENT = "invoke_agent"
# The harnesses speak the Anthropic Messages API; a LiteLLM model may name its provider (`openai/gpt-4o`).
DEFAULT_PROVIDER = "anthropic"


@dataclass(frozen=True)
class SpanPlan:
    """One span of a run's trace; `error` is the error.type of a span that ended in error."""

    name: str
    span_id: int
    parent_id: int | None
    start: datetime
    end: datetime
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class TracePlan:
    """A run's trace: the root span first."""

    trace_id: int
    spans: tuple[SpanPlan, ...]


def trace_id_of(uid: str) -> int:
    """The run uid's 128 bits (Kubernetes uids are UUIDs); any other string hashed to 128 bits."""
    try:
        value = uuid.UUID(uid).int
    except ValueError:
        value = int.from_bytes(hashlib.sha256(uid.encode()).digest()[:16], "big")
    return value or 1  # an all-zero trace id is invalid


def span_id_of(uid: str, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{uid}/{name}".encode()).digest()[:8], "big") or 1


def provider_of(model: str) -> str:
    prefix, slash, _ = model.partition("/")
    return prefix if slash and prefix else DEFAULT_PROVIDER


def _root_attributes(run: AgentRun) -> dict[str, Attribute]:
    status = run.status
    assert status is not None
    agent = run.spec.agent_ref.name
    namespace = run.metadata.namespace or "default"
    attributes: dict[str, Attribute] = {
        "gen_ai.operation.name": INVOKE_AGENT,
        "gen_ai.agent.name": agent,
        "gen_ai.agent.id": f"{namespace}/{agent}",
        "atomesh.namespace": namespace,
        "atomesh.run": run.metadata.name,
        "atomesh.run.phase": status.phase,
        "atomesh.trigger": run.spec.trigger.kind,
    }
    if status.reason:
        attributes["atomesh.run.reason"] = status.reason
    if status.agent is not None:
        model = status.agent.spec.harness.model
        attributes.update(
            {
                "gen_ai.provider.name": provider_of(model),
                "gen_ai.request.model": model,
                "atomesh.harness": status.agent.spec.harness.kind,
            }
        )
        if status.agent.revision:
            attributes["gen_ai.agent.version"] = status.agent.revision
            attributes["atomesh.agent.revision"] = status.agent.revision
    else:
        attributes["gen_ai.provider.name"] = DEFAULT_PROVIDER
    if status.usage is not None:
        attributes.update(
            {
                "gen_ai.usage.input_tokens": status.usage.input_tokens,
                "gen_ai.usage.output_tokens": status.usage.output_tokens,
                "atomesh.cost_usd": status.usage.cost_usd,
                "atomesh.turns": status.usage.turns,
            }
        )
    attributes.update(_review_attributes(run))
    return attributes


def _review_attributes(run: AgentRun) -> dict[str, Attribute]:
    review = run.status.review if run.status else None
    if review is None:
        return {}
    attributes: dict[str, Attribute] = {"atomesh.review.revision": review.revision}
    if review.url:
        attributes["atomesh.pull_request.url"] = review.url
    if review.state:
        attributes["atomesh.review.state"] = review.state
    return attributes


def run_trace(run: AgentRun) -> TracePlan | None:
    """The trace of a finished run; None for a run not finished, or without uid or creation time."""
    status, uid = run.status, run.metadata.uid
    created = parse_time(run.metadata.creation_timestamp)
    if status is None or status.phase not in TERMINAL_PHASES or not uid or created is None:
        return None
    review = status.review
    started = parse_time(status.start_time)
    published = parse_time(review.published_at if review else None)
    decided = parse_time(review.decided_at if review else None)
    completed = parse_time(status.completion_time) or decided or published or started or created
    end = max(completed, created)
    root_id = span_id_of(uid, INVOKE_AGENT)
    failed = status.reason or status.phase if status.phase == "Failed" else None
    namespace = run.metadata.namespace or "default"
    common: dict[str, Attribute] = {"atomesh.namespace": namespace, "atomesh.run": run.metadata.name}
    spans = [
        SpanPlan(
            f"{INVOKE_AGENT} {run.spec.agent_ref.name}", root_id, None, created, end, _root_attributes(run), failed
        )
    ]

    def child(
        name: str,
        start: datetime | None,
        stop: datetime | None,
        extra: Mapping[str, Attribute] | None = None,
        parent: int = root_id,
    ) -> SpanPlan | None:
        if start is None or stop is None or stop < start:
            return None
        span = SpanPlan(name, span_id_of(uid, name), parent, start, stop, {**common, **(extra or {})})
        spans.append(span)
        return span

    child("Pending", created, started)
    running = child("Running", started, published or completed)
    step_failed = False
    for step in status.steps:
        exit_code = {} if step.exit_code is None else {"atomesh.step.exit_code": step.exit_code}
        parent = running.span_id if running else root_id
        span = child(step.name, parse_time(step.started_at), parse_time(step.finished_at), exit_code, parent)
        if span is not None and failed is not None and step.exit_code not in (None, 0):
            spans[-1], step_failed = _with_error(span, failed), True
    if published is not None:
        child("AwaitingReview", published, decided or completed, _review_attributes(run))
    if decided is not None and review is not None and review.state:
        child(f"decision {review.state}", decided, decided, _review_attributes(run))
    if failed is not None and not step_failed and len(spans) > 1:
        spans[-1] = _with_error(spans[-1], failed)
    return TracePlan(trace_id_of(uid), tuple(spans))


def _with_error(span: SpanPlan, error: str) -> SpanPlan:
    return SpanPlan(span.name, span.span_id, span.parent_id, span.start, span.end, span.attributes, error)
