"""A finished run's trace, read from its status times: names, parents, times and GenAI attributes."""

from __future__ import annotations

from tests.unit.core.trace_builders import UID, at, merged_run, moment

from atomesh.core.runtrace import provider_of, run_trace, span_id_of


def test_a_merged_run_is_one_trace_under_its_invoke_agent_span() -> None:
    plan = run_trace(merged_run())
    assert plan is not None
    assert plan.trace_id == int(UID.replace("-", ""), 16)
    root, *children = plan.spans
    assert (root.name, root.parent_id, root.start, root.end) == ("invoke_agent fixer", None, moment(0), moment(40, 1))
    assert root.span_id == span_id_of(UID, "invoke_agent")
    assert [(c.name, c.start, c.end) for c in children] == [
        ("Pending", moment(0), moment(0, 5)),
        ("Running", moment(0, 5), moment(3)),
        ("checkout", moment(0, 10), moment(0, 20)),
        ("agent", moment(0, 20), moment(2, 40)),
        ("publish", moment(2, 40), moment(2, 59)),
        ("AwaitingReview", moment(3), moment(40)),
        ("decision merged", moment(40), moment(40)),
    ]
    running = children[1].span_id
    assert [c.parent_id for c in children] == [
        root.span_id,
        root.span_id,
        running,
        running,
        running,
        root.span_id,
        root.span_id,
    ]
    assert children[3].attributes == {
        "atomesh.namespace": "team-a",
        "atomesh.run": "fix-1",
        "atomesh.step.exit_code": 0,
    }
    assert root.attributes == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "fixer",
        "gen_ai.agent.id": "team-a/fixer",
        "gen_ai.agent.version": "inline@sha256:abc",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 340,
        "atomesh.namespace": "team-a",
        "atomesh.run": "fix-1",
        "atomesh.run.phase": "Succeeded",
        "atomesh.run.reason": "Merged",
        "atomesh.trigger": "manual",
        "atomesh.harness": "litellm",
        "atomesh.agent.revision": "inline@sha256:abc",
        "atomesh.cost_usd": 0.0123,
        "atomesh.turns": 3,
        "atomesh.pull_request.url": "https://github.com/demo/sample-app/pull/7",
        "atomesh.review.state": "merged",
        "atomesh.review.revision": 1,
    }
    assert root.error is None
    text = repr(plan)
    assert "SECRET-LOOKING" not in text
    assert "input stays out" not in text


def test_the_same_run_gives_the_same_ids_so_a_repeated_export_repeats_spans() -> None:
    first, second = run_trace(merged_run()), run_trace(merged_run())
    assert first == second


def test_a_failed_run_marks_its_root_and_last_span_with_the_reason() -> None:
    lost = merged_run(phase="Failed", reason="PodLost", review=None, steps=[], completionTime=at(2))
    plan = run_trace(lost)
    assert plan is not None
    assert [(s.name, s.error) for s in plan.spans] == [
        ("invoke_agent fixer", "PodLost"),
        ("Pending", None),
        ("Running", "PodLost"),
    ]
    assert plan.spans[2].end == moment(2)
    steps = [
        {"name": "checkout", "startedAt": at(0, 10), "finishedAt": at(0, 20), "exitCode": 0},
        {"name": "agent", "startedAt": at(0, 20), "finishedAt": at(1, 30), "exitCode": 3},
    ]
    failed = merged_run(phase="Failed", reason="ModelError", review=None, steps=steps, completionTime=at(1, 31))
    plan = run_trace(failed)
    assert plan is not None
    assert [(s.name, s.error) for s in plan.spans] == [
        ("invoke_agent fixer", "ModelError"),
        ("Pending", None),
        ("Running", None),
        ("checkout", None),
        ("agent", "ModelError"),
    ]


def test_only_a_finished_run_with_a_uid_has_a_trace() -> None:
    assert run_trace(merged_run(phase="AwaitingReview")) is None
    anonymous = merged_run()
    anonymous.metadata.uid = None
    assert run_trace(anonymous) is None


def test_the_provider_is_the_model_prefix_litellm_routes_by_else_anthropic() -> None:
    assert provider_of("openai/gpt-4o") == "openai"
    assert provider_of("claude-sonnet-4-5") == "anthropic"
