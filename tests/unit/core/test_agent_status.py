"""Agent status from spec and ref resolution; conditions bookkeeping; run admission."""

from __future__ import annotations

import pytest
from core_builders import agent, agent_spec, run
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.core.admission import admit_run
from atomesh.core.conditions import condition, merge_conditions
from atomesh.core.hashing import spec_hash
from atomesh.core.revision import RefResolution, agent_events, describe_validation_error, plan_agent_status

SOURCE = {"instructions": None, "source": {"repo": "https://git.example/acme/agents.git", "ref": "v1"}}


def conds(status: AgentStatus) -> dict[str, tuple[str, str]]:
    return {cond.type: (cond.status, cond.reason) for cond in status.conditions}


def test_inline_agent_is_ready_with_spec_hash_revision() -> None:
    spec = agent_spec()
    status = plan_agent_status(AgentStatus(), generation=2, spec=spec, invalid=None, resolution=None, now="t")
    assert status.revision == f"inline@{spec_hash(spec)[:12]}"
    assert conds(status) == {c.READY: ("True", c.RECONCILED), c.RESOLVED_REFS: ("True", c.INLINE_INSTRUCTIONS)}
    assert all(cond.observed_generation == 2 for cond in status.conditions)


def test_git_agent_records_ref_and_commit() -> None:
    spec = agent_spec(**SOURCE)
    commit = "a" * 40
    status = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=RefResolution(commit=commit), now="t"
    )
    assert (status.revision, status.commit) == (f"v1@sha1:{commit}", commit)
    assert conds(status)[c.RESOLVED_REFS] == ("True", c.REFS_RESOLVED)


def test_resolution_failure_is_shown_and_keeps_the_last_revision() -> None:
    spec = agent_spec(**SOURCE)
    good = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=RefResolution(commit="b" * 40), now="t1"
    )
    bad = plan_agent_status(
        good, generation=2, spec=spec, invalid=None, resolution=RefResolution(error="unreachable"), now="t2"
    )
    assert bad.revision == good.revision
    assert conds(bad) == {
        c.READY: ("False", c.REF_RESOLUTION_FAILED),
        c.RECONCILING: ("True", c.REF_RESOLUTION_FAILED),
        c.RESOLVED_REFS: ("False", c.REF_RESOLUTION_FAILED),
    }
    assert "unreachable" in bad.conditions[0].message
    again = plan_agent_status(
        bad, generation=2, spec=spec, invalid=None, resolution=RefResolution(commit="b" * 40), now="t3"
    )
    assert c.RECONCILING not in conds(again)


def test_invalid_spec_stalls_with_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        AgentSpec.model_validate({"purpose": "x", "instructions": "y", "output": {"artifact": "pdf"}})
    message = describe_validation_error(info.value, "spec")
    assert "spec.output.artifact" in message
    assert "spec.workspace" in message
    status = plan_agent_status(AgentStatus(), generation=3, spec=None, invalid=message, resolution=None, now="t")
    assert conds(status) == {c.READY: ("False", c.INVALID_SPEC), c.STALLED: ("True", c.INVALID_SPEC)}


def test_transition_time_kept_while_status_unchanged() -> None:
    first = merge_conditions([], [condition(c.READY, "True", "A", "m1", 1)], "t1")
    same = merge_conditions(first, [condition(c.READY, "True", "B", "m2", 2)], "t2")
    flipped = merge_conditions(same, [condition(c.READY, "False", "C", "m3", 3)], "t3")
    assert [cond.last_transition_time for cond in (first[0], same[0], flipped[0])] == ["t1", "t1", "t3"]
    assert same[0].reason == "B"


def test_events_only_on_change() -> None:
    spec = agent_spec()
    first = plan_agent_status(AgentStatus(), generation=1, spec=spec, invalid=None, resolution=None, now="t1")
    assert [e.reason for e in agent_events(AgentStatus(), first)] == ["RevisionChanged", c.RECONCILED]
    again = plan_agent_status(first, generation=1, spec=spec, invalid=None, resolution=None, now="t2")
    assert agent_events(first, again) == []
    assert again == first  # nothing to write: no hot loop


READY = {
    "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled", "observedGeneration": 1}],
    "revision": "inline@abc",
    "specHash": "abc",
}


@pytest.mark.parametrize(
    ("agent_status", "input_", "verdict", "reason"),
    [
        (None, {"topic": "x"}, "wait", c.AGENT_NOT_FOUND),
        ({}, {"topic": "x"}, "wait", c.AGENT_NOT_READY),
        (READY, {"topic": "x"}, "start", c.CREATED),
        (READY, {"topic": 3}, "fail", c.INVALID_INPUT),
        (READY, {"other": "x"}, "fail", c.INVALID_INPUT),
    ],
)
def test_admission(
    agent_status: dict[str, object] | None, input_: dict[str, object], verdict: str, reason: str
) -> None:
    target = None if agent_status is None else agent(status=agent_status)
    admission = admit_run(run(input_=input_), target)
    assert (admission.verdict, admission.reason) == (verdict, reason)
    if verdict == "start":
        assert admission.snapshot is not None
        assert admission.snapshot.revision == "inline@abc"
    if verdict == "fail":
        assert "spec.input" in admission.message


def test_admission_waits_for_a_reconciled_generation() -> None:
    admission = admit_run(run(), agent(status=READY, generation=2))
    assert admission.verdict == "wait"


def test_a_token_in_the_source_url_never_reaches_a_condition() -> None:
    spec = agent_spec(
        instructions=None, source={"repo": "https://bot:ghp_SECRET123@git.example.com/acme/agents.git", "ref": "v1"}
    )
    error = "fatal: unable to access 'https://bot:ghp_SECRET123@git.example.com/acme/agents.git/': 503"
    status = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=RefResolution(error=error), now="t"
    )
    messages = [condition.message for condition in status.conditions]
    assert messages
    assert all("ghp_SECRET123" not in message for message in messages)
    assert all("https://***@git.example.com/acme/agents.git" in message for message in messages)


def test_an_unpriced_model_is_ready_and_cost_unknown_until_it_has_a_price() -> None:
    spec = agent_spec(harness={"kind": "claude-code", "model": "claude-sonet-4-5"})
    unpriced = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=None, now="t", priced=False
    )
    assert conds(unpriced)[c.READY] == (c.TRUE, c.RECONCILED)
    assert conds(unpriced)[c.COST_UNKNOWN_CONDITION] == (c.TRUE, c.COST_UNKNOWN)
    message = next(cond.message for cond in unpriced.conditions if cond.type == c.COST_UNKNOWN_CONDITION)
    assert "'claude-sonet-4-5'" in message
    assert "spec.harness.price" in message
    priced = plan_agent_status(unpriced, generation=2, spec=spec, invalid=None, resolution=None, now="t2")
    assert c.COST_UNKNOWN_CONDITION not in conds(priced)  # abnormal-true: gone once false


COST_UNKNOWN = {
    **READY,
    "conditions": [
        *READY["conditions"],  # type: ignore[list-item]
        {"type": "CostUnknown", "status": "True", "reason": "CostUnknown", "message": "model 'x' is not priced"},
    ],
}


def test_a_cost_limit_refuses_an_unpriced_model_and_nothing_else_does() -> None:
    limited = admit_run(run(), agent(status=COST_UNKNOWN, limits={"timeout": "15m", "maxCostUSD": 2}))
    assert (limited.verdict, limited.reason) == ("fail", c.COST_UNKNOWN)
    assert limited.message == "limits.maxCostUSD=$2 cannot hold: model 'x' is not priced"
    assert admit_run(run(), agent(status=COST_UNKNOWN)).verdict == "start"
    assert admit_run(run(), agent(status=READY, limits={"timeout": "15m", "maxCostUSD": 2})).verdict == "start"


def test_a_workspace_that_does_not_resolve_keeps_the_agent_from_ready() -> None:
    spec = agent_spec()
    missing = RefResolution(error="acme/site has no branch 'main'")
    status = plan_agent_status(
        AgentStatus(), generation=1, spec=spec, invalid=None, resolution=None, now="t", workspace=missing
    )
    assert conds(status)[c.READY] == (c.FALSE, c.WORKSPACE_UNRESOLVABLE)
    assert conds(status)[c.RECONCILING] == (c.TRUE, c.WORKSPACE_UNRESOLVABLE)
    message = next(cond.message for cond in status.conditions if cond.type == c.READY)
    assert "spec.workspace.baseBranch 'main'" in message
    assert "has no branch 'main'" in message
    fixed = plan_agent_status(
        status, generation=1, spec=spec, invalid=None, resolution=None, now="t2", workspace=RefResolution("abc")
    )
    assert conds(fixed)[c.READY] == (c.TRUE, c.RECONCILED)
    assert c.RECONCILING not in conds(fixed)
