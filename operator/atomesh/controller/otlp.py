"""Run traces exported by OTLP/HTTP through the OpenTelemetry SDK: the adapter behind `RunTraces`.

The spans are made from `core.runtrace`'s plan — ids, times and attributes as planned — and handed
to a batch processor, so a reconcile never waits on the collector; a collector that is down costs
dropped spans (logged by the SDK), never a failed reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from atomesh.api.agentrun import AgentRun
from atomesh.core.runtrace import SpanPlan, TracePlan, run_trace

SERVICE_NAME = "atomesh-operator"
SCOPE = InstrumentationScope("atomesh.controller.otlp")


def _nanos(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


class OtlpTraces:
    """Spans of each finished run, batched to an exporter (OTLP/HTTP in the operator)."""

    def __init__(self, exporter: SpanExporter, resource: Resource | None = None) -> None:
        self._resource = resource or Resource.create({"service.name": SERVICE_NAME})
        self._processor = BatchSpanProcessor(exporter)

    def run_finished(self, run: AgentRun) -> None:
        plan = run_trace(run)
        if plan is None:
            return
        for span in plan.spans:
            self._processor.on_end(self._span(plan, span))

    def _span(self, plan: TracePlan, span: SpanPlan) -> ReadableSpan:
        def context(span_id: int) -> SpanContext:
            return SpanContext(plan.trace_id, span_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))

        attributes = dict(span.attributes)
        status = Status(StatusCode.UNSET)
        if span.error is not None:
            attributes["error.type"] = span.error
            status = Status(StatusCode.ERROR, span.error)
        return ReadableSpan(
            name=span.name,
            context=context(span.span_id),
            parent=None if span.parent_id is None else context(span.parent_id),
            resource=self._resource,
            attributes=attributes,
            kind=SpanKind.INTERNAL,
            status=status,
            start_time=_nanos(span.start),
            end_time=_nanos(span.end),
            instrumentation_scope=SCOPE,
        )

    def flush(self, timeout_millis: int = 5000) -> bool:
        return self._processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        self._processor.shutdown()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated


def otlp_traces(environ: Mapping[str, str]) -> OtlpTraces:
    """The exporter reads the endpoint (appending /v1/traces to the generic one), headers and timeout itself."""
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
    return OtlpTraces(OTLPSpanExporter(), resource)
