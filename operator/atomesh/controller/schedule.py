"""Scheduled runs: a kopf timer per Agent with `triggers.schedule` enqueues the Agent's schedule;
its reconcile creates AgentRuns with deterministic names, applies concurrencyPolicy and suspend,
records lastScheduleTime and nextScheduleTime, and has finished runs beyond historyLimit pruned.
Writes happen only when something is due or changed, so idle schedules cost no API writes."""

from __future__ import annotations

import logging
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.controller.agentrun import prune, run_infos
from atomesh.controller.apply import apply
from atomesh.controller.context import OperatorContext
from atomesh.core.schedule import parse_rfc3339, plan_schedule, schedule_plan
from atomesh.kube.resources import AGENTS

log = logging.getLogger(__name__)
SCHEDULE = "schedule"


def reconcile_schedule(ctx: OperatorContext, namespace: str, name: str) -> None:
    body = ctx.kube.get(AGENTS, namespace, name)
    if body is None:
        return
    try:
        agent = Agent.model_validate(body)
    except ValidationError:
        return  # the Agent controller reports the invalid spec as Stalled
    meta = agent.metadata
    status = dict(body.get("status") or {})
    now = ctx.clock()
    decision = plan_schedule(
        agent=meta.name,
        triggers=agent.spec.triggers,
        suspend=agent.spec.suspend,
        last_schedule_time=parse_rfc3339(status.get("lastScheduleTime")),
        created=parse_rfc3339(meta.creation_timestamp) or now,
        now=now,
        runs=run_infos(ctx, namespace, meta.name),
    )
    apply(ctx, AGENTS, body, schedule_plan(decision, agent=meta.name, namespace=namespace, status=status))
    if decision.create:
        prune(ctx, namespace, meta.name)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    ctx.workers.register(SCHEDULE, lambda namespace, name: reconcile_schedule(ctx, namespace, name))

    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_AGENTS,
        interval=ctx.config.schedule_interval_seconds,
        when=lambda spec, **_: bool((spec.get("triggers") or {}).get("schedule")),
        registry=registry,
    )
    async def agent_schedule(*, namespace: str | None, name: str, **_: Any) -> None:
        ctx.workers.enqueue(SCHEDULE, namespace or "default", name)
