"""Running the operator: in the foreground (`atomesh operator`) or in a thread (`OperatorThread`,
for tests and `atomesh dev`). Both stop gracefully: kopf finishes the handlers in flight."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import kopf

from atomesh.api.constants import LABEL_MESH, LABEL_MESH_EXECUTION
from atomesh.controller.agent import RUNS_BY_AGENT, agent_of
from atomesh.controller.context import OperatorContext, utc_now
from atomesh.controller.events import EventRecorder
from atomesh.controller.metrics import HttpEndpoint
from atomesh.controller.registry import build_registry
from atomesh.controller.review import ReviewForge
from atomesh.controller.shards import ShardingOptions
from atomesh.controller.tracing import traces_from_env
from atomesh.core.config import OperatorConfig
from atomesh.core.validation import OBJECT_RECURSION_LIMIT
from atomesh.forge.refs import resolve_ref
from atomesh.gateway.protocol import KeyGateway
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS, BUDGETS, MESHES, PODS
from atomesh.kube.watch import KubeReader

log = logging.getLogger(__name__)


@dataclass
class Operator:
    """One operator instance, composed: its context (ports, clock, metrics), its HTTP endpoint
    (/metrics, /healthz, the webhook ingress) and its kopf registry. The only composition root:
    `run` and `OperatorThread` both start what `compose` built."""

    kube: RestKube
    cache: CachedKube
    ctx: OperatorContext
    events: EventRecorder
    endpoint: HttpEndpoint
    registry: kopf.OperatorRegistry
    ready: threading.Event

    def close(self) -> None:
        self.ctx.traces.shutdown()  # sends the spans still batched
        self.events.stop()  # writes the Events still queued first
        self.kube.close()


def compose(
    config: OperatorConfig,
    *,
    kubeconfig: str | None,
    host: str,
    port: int,
    standalone: bool,
    namespaces: Sequence[str] = (),
    peering: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    resolver: Callable[[str, str], str] = resolve_ref,
    forge: ReviewForge | None = None,
    webhook_secret: str | None = None,
    sharding: ShardingOptions | None = None,
    key_gateway: KeyGateway | None = None,
) -> Operator:
    # kopf deep-copies each object recursively: objects nested hundreds of levels need more than the default.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), OBJECT_RECURSION_LIMIT))
    kube = RestKube.from_kubeconfig(kubeconfig)
    # Reconciles read these kinds from the watch cache; Secrets and ConfigMaps from the API server.
    # A mesh lists its runs by label at every reconcile, an Agent's rollup and pruning its runs by
    # agentRef and their mesh executions by label: indexed, not a scan of every run. Agents and runs,
    # the kinds of thousands, are kept packed: a finished run carries its Agent's spec, and thousands
    # of them decoded would take most of the operator's memory. Meshes and Budgets, a few listed at
    # every Agent event and run admission, stay decoded.
    cache = CachedKube(
        kube,
        (AGENTS, AGENT_RUNS, MESHES, PODS, BUDGETS),
        indexed_labels=(LABEL_MESH, LABEL_MESH_EXECUTION),
        packed=(AGENTS, AGENT_RUNS),
        indexers={AGENT_RUNS: {RUNS_BY_AGENT: agent_of}},
    )
    ctx = OperatorContext(config=config, kube=cache, clock=clock, resolver=resolver, traces=traces_from_env(os.environ))
    events = EventRecorder(kube, clock=clock)
    ctx.post_event = events.post
    ctx.branch_head = forge.branch_head if forge is not None else None
    ctx.key_gateway = key_gateway
    ready = threading.Event()
    endpoint = HttpEndpoint(ctx.metrics, host, port, ready.is_set)
    registry = build_registry(
        ctx,
        cache=cache,
        namespaces=namespaces,
        kubeconfig=kubeconfig,
        endpoint=endpoint,
        peering=peering,
        standalone=standalone,
        forge=forge,
        webhook_secret=webhook_secret,
        sharding=sharding,
        run_reader=None if peering else KubeReader.from_kubeconfig(kubeconfig),
    )
    return Operator(kube, cache, ctx, events, endpoint, registry, ready)


def run(
    config: OperatorConfig,
    *,
    namespaces: Sequence[str] = (),
    all_namespaces: bool = False,
    standalone: bool = False,
    peering: str | None = None,
    priority: int = 0,
    port: int = 8080,
    host: str = "0.0.0.0",
    kubeconfig: str | None = None,
    forge: ReviewForge | None = None,
    webhook_secret: str | None = None,
    sharding: ShardingOptions | None = None,
    key_gateway: KeyGateway | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (kopf handles the signals and shuts down gracefully)."""
    operator = compose(
        config,
        kubeconfig=kubeconfig,
        host=host,
        port=port,
        standalone=standalone,
        namespaces=() if all_namespaces else namespaces,
        peering=peering,
        forge=forge,
        webhook_secret=webhook_secret,
        sharding=sharding,
        key_gateway=key_gateway,
    )
    try:
        asyncio.run(
            kopf.operator(
                registry=operator.registry,
                standalone=standalone,
                peering_name=peering,
                priority=priority,
                clusterwide=all_namespaces,
                namespaces=list(namespaces),
                ready_flag=operator.ready,
            )
        )
    finally:
        operator.close()
    return 0


class OperatorThread:
    """The real operator in a background thread with its own loop; a context manager.

    `clock` lets tests run schedules on a fast or shifted clock; `writes` counts API writes made
    by atomesh (kopf's own bookkeeping is counted at the API server).
    """

    def __init__(
        self,
        config: OperatorConfig,
        kubeconfig: str,
        namespaces: Sequence[str] = ("default",),
        *,
        all_namespaces: bool = False,
        clock: Callable[[], datetime] = utc_now,
        resolver: Callable[[str, str], str] = resolve_ref,
        metrics_port: int = 0,
        forge: ReviewForge | None = None,
        webhook_secret: str | None = None,
        sharding: ShardingOptions | None = None,
        key_gateway: KeyGateway | None = None,
    ) -> None:
        self._operator = compose(
            config,
            kubeconfig=kubeconfig,
            host="127.0.0.1",
            port=metrics_port,
            standalone=True,
            namespaces=() if all_namespaces else namespaces,
            clock=clock,
            resolver=resolver,
            forge=forge,
            webhook_secret=webhook_secret,
            sharding=sharding,
            key_gateway=key_gateway,
        )
        self.ctx = self._operator.ctx
        self.kube = self._operator.kube
        self.cache = self._operator.cache
        self.events = self._operator.events
        self.endpoint = self._operator.endpoint
        self._registry = self._operator.registry
        self._ready = self._operator.ready
        self._stop = threading.Event()
        self._namespaces = [] if all_namespaces else list(namespaces)
        self._clusterwide = all_namespaces
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint.port}"

    def _main(self) -> None:
        try:
            asyncio.run(
                kopf.operator(
                    registry=self._registry,
                    standalone=True,
                    clusterwide=self._clusterwide,
                    namespaces=self._namespaces,
                    stop_flag=self._stop,
                    ready_flag=self._ready,
                )
            )
        except BaseException as exc:  # reported by start()/stop()
            self._error = exc
            self._ready.set()

    def start(self, timeout: float = 30.0) -> OperatorThread:
        self._thread = threading.Thread(target=self._main, name="atomesh-operator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the operator did not become ready within {timeout} s")
        if self._error is not None:
            raise RuntimeError("the operator failed to start") from self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise TimeoutError(f"the operator did not stop within {timeout} s")
        self._operator.close()

    def __enter__(self) -> OperatorThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
