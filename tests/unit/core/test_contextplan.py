"""A Context's reconcile plan and the Agents it wakes, pure: the status and its one Ready Event, the
requeue of a source not resolved yet, and which Agents' pinned contexts are out of date."""

from __future__ import annotations

from typing import Any

from atomesh.api import conditions as c
from atomesh.api.common import dump
from atomesh.api.context import Context
from atomesh.core.context import SourceObservation
from atomesh.core.contextplan import agents_to_refresh, plan_context
from atomesh.core.requeue import Transient

NOW = "2026-01-01T00:00:00Z"
COMMIT = "b" * 40
GIT = {"git": {"repo": "acme/handbook", "ref": "main"}}


def context(labels: dict[str, str] | None = None, status: Any = None, name: str = "handbook") -> Context:
    body = {"metadata": {"name": name, "namespace": "team", "labels": labels or {}}, "spec": GIT}
    if status is not None:
        body["status"] = status
    return Context.model_validate(body)


def planned(status: Any = None, observed: SourceObservation | None = None) -> Any:
    return plan_context(
        status or {},
        name="handbook",
        generation=1,
        context=context(),
        invalid=None,
        observed=observed or SourceObservation(commit=COMMIT),
        now=NOW,
    )


def ready_status() -> dict[str, Any]:
    return dict(planned().status)


def agent(name: str, selection: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {
        "purpose": "p",
        "instructions": "i",
        "output": {"artifact": "doc"},
        "workspace": {"repo": "acme/app"},
        "harness": {"model": "claude-sonnet-4-6"},
        "context": selection,
    }
    return {"metadata": {"name": name}, "spec": spec, "status": status or {}}


def pinned(version: Any) -> dict[str, Any]:
    ready = {"type": c.READY, "status": c.TRUE, "reason": c.RECONCILED, "message": "", "lastTransitionTime": NOW}
    return {"contexts": [version], "conditions": [ready]}


def test_a_resolved_context_is_ready_with_one_event_and_no_requeue() -> None:
    plan = planned()
    assert plan.status is not None
    assert plan.status["version"]["commit"] == COMMIT
    assert [(event.type, event.reason) for event in plan.events] == [("Normal", c.RECONCILED)]
    assert plan.requeue is None
    again = planned(status=plan.status)
    assert again.status == plan.status
    assert again.events == ()


def test_a_ref_not_resolved_yet_is_written_and_retried() -> None:
    plan = planned(observed=SourceObservation(error="connection refused"))
    assert isinstance(plan.requeue, Transient)
    assert [event.reason for event in plan.events] == [c.REF_RESOLUTION_FAILED]
    assert plan.status is not None
    assert "version" not in plan.status or plan.status["version"] is None


def test_an_invalid_spec_is_stalled_not_retried() -> None:
    plan = plan_context(
        {},
        name="handbook",
        generation=3,
        context=None,
        invalid="spec: set exactly one of git, configMap or oci",
        observed=SourceObservation(),
        now=NOW,
    )
    assert plan.requeue is None
    assert plan.status is not None
    reasons = {cond["type"]: cond["reason"] for cond in plan.status["conditions"]}
    assert reasons == {c.READY: c.INVALID_SPEC, c.STALLED: c.INVALID_SPEC}


def test_only_agents_whose_pinned_contexts_are_out_of_date_are_woken() -> None:
    status = ready_status()
    handbook = context({"handbook": "engineering"}, status)
    version = dump(handbook.status.version) if handbook.status and handbook.status.version else None
    agents = [
        agent("current", {"names": ["handbook"]}, pinned(version)),
        agent("new", {"selector": {"matchLabels": {"handbook": "engineering"}}}),
        agent("elsewhere", {"names": ["other"]}),
        agent("no-context", {}),
    ]
    agents[3]["spec"].pop("context")
    assert agents_to_refresh("handbook", [handbook], agents) == ["new"]


def test_a_relabelled_or_deleted_context_wakes_the_agents_that_pinned_it() -> None:
    status = ready_status()
    handbook = context({"handbook": "engineering"}, status)
    version = dump(handbook.status.version) if handbook.status and handbook.status.version else None
    by_label = agent("canary", {"selector": {"matchLabels": {"handbook": "engineering"}}}, pinned(version))
    assert agents_to_refresh("handbook", [handbook], [by_label]) == []
    relabelled = context({"handbook": "retired"}, status)
    assert agents_to_refresh("handbook", [relabelled], [by_label]) == ["canary"]
    assert agents_to_refresh("handbook", [], [by_label]) == ["canary"]
