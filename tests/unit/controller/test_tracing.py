"""The tracing adapter: off without an OTLP endpoint; on, the planned spans go through the SDK as planned."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from tests.unit.core.trace_builders import UID, at, merged_run

from atomesh.controller.otlp import OtlpTraces
from atomesh.controller.tracing import NoTraces, traces_from_env
from atomesh.core.runtrace import run_trace


def test_no_endpoint_no_exporter() -> None:
    assert isinstance(traces_from_env({}), NoTraces)
    assert isinstance(traces_from_env({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""}), NoTraces)


def test_an_endpoint_turns_export_on_with_the_configured_service_name() -> None:
    traces = traces_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_SERVICE_NAME": "ops"})
    try:
        assert isinstance(traces, OtlpTraces)
    finally:
        traces.shutdown()


def test_spans_carry_the_planned_ids_parents_times_and_error() -> None:
    exporter = InMemorySpanExporter()
    traces = OtlpTraces(exporter)
    failed = merged_run(phase="Failed", reason="StepFailed", review=None, steps=[], completionTime=at(2))
    traces.run_finished(failed)
    traces.run_finished(merged_run(phase="AwaitingReview"))  # not finished: nothing
    assert traces.flush()
    traces.shutdown()
    plan = run_trace(failed)
    assert plan is not None
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == [span.name for span in plan.spans]
    root = spans[0]
    assert root.context is not None
    assert (root.context.trace_id, root.context.span_id, root.parent) == (
        int(UID.replace("-", ""), 16),
        plan.spans[0].span_id,
        None,
    )
    assert {span.parent.span_id for span in spans[1:] if span.parent} == {plan.spans[0].span_id}
    assert root.start_time == int(plan.spans[0].start.timestamp()) * 10**9
    assert (root.status.status_code, root.attributes and root.attributes["error.type"]) == (
        StatusCode.ERROR,
        "StepFailed",
    )
    assert root.resource.attributes["service.name"] == "atomesh-operator"
