"""Scheduled runs: a kopf timer per Agent with `triggers.schedule` creates AgentRuns with
deterministic names, applies concurrencyPolicy and suspend, records lastScheduleTime and
nextScheduleTime, and prunes finished runs beyond historyLimit. Writes happen only when
something is due or changed, so idle schedules cost no API writes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.controller.agentrun import prune, run_infos
from atomesh.controller.context import OperatorContext
from atomesh.controller.events import post_event
from atomesh.controller.reconciler import guarded
from atomesh.core.schedule import build_scheduled_run, parse_rfc3339, plan_schedule, to_rfc3339
from atomesh.kube.resources import AGENT_RUNS, AGENTS

log = logging.getLogger(__name__)


def reconcile_schedule(ctx: OperatorContext, body: Mapping[str, Any]) -> None:
    try:
        agent = Agent.model_validate(dict(body))
    except ValidationError:
        return  # the Agent handler reports the invalid spec as Stalled
    meta = agent.metadata
    namespace = meta.namespace or "default"
    status = dict(body.get("status") or {})
    now = ctx.clock()
    plan = plan_schedule(
        agent=meta.name,
        triggers=agent.spec.triggers,
        suspend=agent.spec.suspend,
        last_schedule_time=parse_rfc3339(status.get("lastScheduleTime")),
        created=parse_rfc3339(meta.creation_timestamp) or now,
        now=now,
        runs=run_infos(ctx, namespace, meta.name),
    )
    for name in plan.cancel:
        ctx.kube.patch(AGENT_RUNS, namespace, name, {"spec": {"cancel": True}})
        post_event(body, "Normal", c.RUN_REPLACED, f"cancelled {name}: concurrencyPolicy Replace")
    patch: dict[str, Any] = {}
    if plan.create and plan.scheduled_at:
        run = build_scheduled_run(meta.name, namespace, plan.create, plan.scheduled_at)
        _, created = ctx.kube.create(AGENT_RUNS, run)
        if created:
            post_event(body, "Normal", c.RUN_SCHEDULED, f"created {plan.create} for {to_rfc3339(plan.scheduled_at)}")
        patch["lastRun"] = plan.create
    if plan.skipped:
        post_event(body, "Warning", c.SCHEDULE_SKIPPED, plan.skipped)
    wanted = {
        "lastScheduleTime": to_rfc3339(plan.last_schedule_time) if plan.last_schedule_time else None,
        "nextScheduleTime": to_rfc3339(plan.next_schedule_time) if plan.next_schedule_time else None,
    }
    patch |= {key: value for key, value in wanted.items() if status.get(key) != value}
    if patch:
        ctx.kube.patch_status(AGENTS, namespace, meta.name, patch)
    if plan.create:
        prune(ctx, namespace, meta.name)


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext) -> None:
    @kopf.timer(
        k.GROUP,
        k.VERSION,
        k.PLURAL_AGENTS,
        interval=ctx.config.schedule_interval_seconds,
        when=lambda spec, **_: bool((spec.get("triggers") or {}).get("schedule")),
        registry=registry,
    )
    def agent_schedule(body: kopf.Body, **_: Any) -> None:
        name = body.get("metadata", {}).get("name")
        guarded(ctx, "schedule", f"Agent {name}", lambda: reconcile_schedule(ctx, body), retried=False)
