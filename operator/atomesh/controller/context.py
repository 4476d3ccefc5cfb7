"""What every reconcile of one operator instance shares: configuration, the Kubernetes port, the
clock, the ref resolver, metrics, the Event poster, the AgentRun events and the work queue's workers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from atomesh.api.agent import ModelPrice
from atomesh.controller.events import log_event
from atomesh.controller.metrics import Metrics
from atomesh.controller.reconciler import Workers
from atomesh.controller.runfeed import RunEvents
from atomesh.controller.tracing import NoTraces, RunTraces
from atomesh.core.config import OperatorConfig
from atomesh.core.schedule import to_rfc3339
from atomesh.forge.refs import resolve_ref
from atomesh.gateway.protocol import KeyGateway
from atomesh.kube.client import Kube
from atomesh.pricing import price_of


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class OperatorContext:
    config: OperatorConfig
    kube: Kube
    clock: Callable[[], datetime] = utc_now
    resolver: Callable[[str, str], str] = resolve_ref
    prices: Callable[[str], ModelPrice | None] = price_of
    # (owner/name, branch) -> commit through the forge's API with the operator's credentials; None
    # without forge credentials, when only workspaces given as git URLs can be checked.
    branch_head: Callable[[str, str], str] | None = None
    # The LLM gateway's key API with the operator's master key; None without one (no virtual keys).
    key_gateway: KeyGateway | None = None
    metrics: Metrics = field(default_factory=Metrics)
    traces: RunTraces = field(default_factory=NoTraces)
    # the Event poster: `controller.events.EventRecorder.post` in a running operator
    post_event: Callable[[Mapping[str, Any], str, str, str], None] = log_event
    # AgentRun events, to every controller that follows runs (`controller.runfeed`)
    run_events: RunEvents = field(default_factory=RunEvents)
    workers: Workers = field(init=False)

    def __post_init__(self) -> None:
        self.workers = Workers(self.metrics)

    def now(self) -> str:
        return to_rfc3339(self.clock())
