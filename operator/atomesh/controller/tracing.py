"""Run traces exported by OTLP/HTTP through the OpenTelemetry SDK: the adapter behind `RunTraces`.

On only when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the SDK's
own variables: `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_BSP_*` apply as documented by OpenTelemetry); otherwise `NoTraces`, which does nothing. The
spans are made from `core.runtrace`'s plan — ids, times and attributes as planned — and handed to a
batch processor, so a reconcile never waits on the collector; a collector that is down costs dropped
spans (logged by the SDK), never a failed reconcile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from atomesh.api.agentrun import AgentRun
from atomesh.core.runtrace import SpanPlan, TracePlan, run_trace

log = logging.getLogger(__name__)
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
SERVICE_NAME = "atomesh-operator"
SCOPE = InstrumentationScope("atomesh.controller.tracing")


class RunTraces(Protocol):
    """Where a finished run's trace goes."""

    def run_finished(self, run: AgentRun) -> None: ...

    def shutdown(self) -> None: ...


class NoTraces:
    """Tracing off: nothing is built or sent."""

    def run_finished(self, run: AgentRun) -> None:
        del run

    def shutdown(self) -> None:
        return None


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


def traces_from_env(environ: Mapping[str, str]) -> RunTraces:
    """OTLP/HTTP export when an endpoint is configured, else nothing."""
    if not any(environ.get(name) for name in ENDPOINT_VARIABLES):
        return NoTraces()
    # The exporter reads the endpoint (appending /v1/traces to the generic one), headers and timeout itself.
    log.info("exporting run traces by OTLP/HTTP")
    resource = Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
    return OtlpTraces(OTLPSpanExporter(), resource)
