"""Run traces: the `RunTraces` port, off (`NoTraces`) unless an OTLP endpoint is configured.

On only when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the SDK's
own variables: `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`, `OTEL_BSP_*` apply as documented
by OpenTelemetry); then `controller.otlp` exports each finished run's trace. Unset, the OpenTelemetry
SDK is not even imported and nothing is built or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

from atomesh.api.agentrun import AgentRun

log = logging.getLogger(__name__)
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


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


def traces_from_env(environ: Mapping[str, str]) -> RunTraces:
    """OTLP/HTTP export when an endpoint is configured, else nothing."""
    if not any(environ.get(name) for name in ENDPOINT_VARIABLES):
        return NoTraces()
    from atomesh.controller.otlp import otlp_traces  # the SDK only when it is used

    log.info("exporting run traces by OTLP/HTTP")
    return otlp_traces(environ)
