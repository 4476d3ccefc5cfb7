"""Event triggers (spec.triggers.events): deliveries from the ingress become AgentRuns.

Thin: read (the Agents with triggers, kept from watch events; a Secret; a permission) → plan
(`core.triggers.plan_delivery`) → apply through the Kube port (create the run; AlreadyExists means a
redelivery, so nothing more) and the forge (replies). A delivery is one `attempt` (its error kind
logged and counted; the sender's redelivery is its retry) and never raises into the ingress; a run's
replies are reconciled on the work queue like any other object.

Two ingress sources: `GitHubTriggers` shares /webhooks/github with the review loop (same secret);
`WebhookTriggers` serves /webhooks/agents/{namespace}/{agent}/{trigger}, each verified with the
trigger's own secret. A watch on runs that carry `atomesh.io/reply-to` posts their start and finish
replies (`core.triggers_replies`).
"""

from __future__ import annotations

import base64
import contextvars
import functools
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast, runtime_checkable

import kopf
from pydantic import ValidationError

from atomesh.api import conditions as c
from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.agentrun import ACTIVE_PHASES
from atomesh.api.triggers import GITHUB_EVENTS
from atomesh.controller.context import OperatorContext
from atomesh.controller.ingress import Delivery
from atomesh.controller.reconciler import attempt
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.core.schedule import parse_rfc3339
from atomesh.core.triggers import (
    ConcurrencyDecision,
    EventDelivery,
    EventRun,
    Planned,
    WebhookTarget,
    decide_admission,
    plan_delivery,
)
from atomesh.core.triggers_auth import authorise, needs_permission, teams_to_ask
from atomesh.core.triggers_replies import (
    Reply,
    due_replies,
    invalid_input_reply,
    marks_value,
    refusal_reply,
    replied,
)
from atomesh.forge.webhook import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verify
from atomesh.kube.client import Body, KubeError
from atomesh.kube.resources import AGENT_RUNS, SECRETS

log = logging.getLogger(__name__)
TRIGGERS = "triggers"
TRIGGER_REPLIES = "trigger-replies"  # the work queue's controller name for a run's replies
GENERIC_WEBHOOK_PATH = "/webhooks/agents/{namespace}/{agent}/{trigger}"
GENERIC_DELIVERY_HEADER = "X-Delivery-ID"


class TriggerForge(Protocol):
    """What triggers need from a forge (GitHubForge implements it)."""

    def permission(self, repo: str, user: str) -> str: ...

    def team_membership(self, org: str, team_slug: str, user: str) -> str | None:
        """active or pending; None when `user` is not a member."""
        ...

    def comment(self, repo: str, number: int, body: str) -> None: ...


@runtime_checkable
class Reacting(Protocol):
    """A forge that can react to comments (GitHubForge): slash commands are acknowledged with one."""

    def react(self, repo: str, number: int, comment_id: int, content: str) -> None: ...


# 👀 a command was acted on; 😕 it started nothing (the reply says why).
ACTED_ON = "eyes"
NOT_STARTED = "confused"


class TriggerIndex:
    """The Agents that declare event triggers, as watch events last showed them, and kopf's context
    (its Event poster lives in context variables) for reconciles started by a webhook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._agents: dict[tuple[str, str], dict[str, Any]] = {}
        self._kopf_context: contextvars.Context | None = None

    def observe(self, namespace: str, name: str, body: Mapping[str, Any] | None) -> None:
        with self._lock:
            if self._kopf_context is None:
                self._kopf_context = contextvars.copy_context()
            events = ((body or {}).get("spec") or {}).get("triggers", {}).get("events") if body else None
            if events:
                self._agents[(namespace, name)] = dict(body or {})
            else:
                self._agents.pop((namespace, name), None)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._agents.values())

    def body(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._agents.get((namespace, name))

    def agents(self) -> list[tuple[str, Agent]]:
        """(namespace, Agent) of every valid Agent with triggers (the Agent handler reports invalid ones)."""
        found = []
        for body in self.bodies():
            try:
                agent = Agent.model_validate(body)
            except ValidationError:
                continue
            found.append((agent.metadata.namespace or "default", agent))
        return found

    def in_kopf_context(self, fn: Callable[[], None]) -> None:
        context = self._kopf_context.copy() if self._kopf_context is not None else contextvars.copy_context()
        context.run(fn)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"webhook body is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ValueError("webhook body must be a JSON object")
    return payload


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


class GitHubTriggers:
    """GitHub deliveries of the events triggers know, HMAC-verified with the operator's webhook secret."""

    name = "github-triggers"
    path = WEBHOOK_PATH

    def __init__(self, dispatch: Callable[[EventDelivery], None], secret: str) -> None:
        self._dispatch = dispatch
        self._secret = secret

    def parse(self, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        lowered = _lowered(headers)
        if not verify(self._secret, body, lowered.get(SIGNATURE_HEADER.lower())):
            raise PermissionError(f"webhook signature ({SIGNATURE_HEADER}) is missing or does not match the secret")
        event = lowered.get(EVENT_HEADER.lower(), "")
        if event not in GITHUB_EVENTS:
            return None
        delivery = EventDelivery(event, lowered.get(DELIVERY_HEADER.lower(), ""), _json_object(body))
        return Delivery(delivery.key, delivery)

    def route(self, event: object) -> list[Callable[[], None]]:
        assert isinstance(event, EventDelivery)
        return [functools.partial(self._dispatch, event)]


def _event_run(run: Mapping[str, Any]) -> EventRun:
    metadata = run.get("metadata") or {}
    labels = metadata.get("labels") or {}
    phase = (run.get("status") or {}).get("phase") or "Pending"
    return EventRun(
        name=str(metadata.get("name")),
        trigger=str(labels.get(k.LABEL_EVENT_TRIGGER, "")),
        subject=str(labels.get(k.LABEL_EVENT_SUBJECT, "")),
        created=parse_rfc3339(metadata.get("creationTimestamp")),
        active=phase in ACTIVE_PHASES and not (run.get("spec") or {}).get("cancel"),
        commit=str(((run.get("status") or {}).get("artifact") or {}).get("commit") or ""),
    )


def _where(target: WebhookTarget) -> tuple[str, str, str]:
    return target.namespace, target.agent, target.trigger


def _key(ref: Mapping[str, Any]) -> tuple[str, str]:
    return str(ref.get("name", "")), str(ref.get("key", ""))


class WebhookTriggers:
    """Generic signed webhooks, one URL per trigger, each verified with its own Secret."""

    name = "webhook-triggers"
    path = GENERIC_WEBHOOK_PATH

    def __init__(self, ctx: OperatorContext, index: TriggerIndex, dispatch: Callable[[EventDelivery], None]) -> None:
        self._ctx = ctx
        self._index = index
        self._dispatch = dispatch

    def _secret(self, target: WebhookTarget) -> str:
        body = self._index.body(target.namespace, target.agent)
        triggers = ((body or {}).get("spec") or {}).get("triggers", {}).get("events") or []
        found = next((t for t in triggers if t.get("name") == target.trigger and t.get("webhook")), None)
        if found is None:
            raise LookupError(f"no webhook trigger {target.trigger!r} on Agent {target.namespace}/{target.agent}")
        ref = found["webhook"].get("secretRef") or {}
        try:
            secret = self._ctx.kube.get(SECRETS, target.namespace, str(ref.get("name", "")))
        except KubeError as error:  # e.g. Forbidden: the operator's RBAC does not cover this Secret
            log.warning("webhook trigger %s/%s/%s: cannot read its Secret: %s", *_where(target), error.reason)
            raise PermissionError("the trigger's secret is not readable: the delivery cannot be verified") from None
        data = (secret or {}).get("data") or {}
        if str(ref.get("key", "")) not in data:
            # Said without the Secret's content; the sender only learns that it cannot be verified.
            log.warning("webhook trigger %s/%s/%s: Secret key %s/%s not found", *_where(target), *_key(ref))
            raise PermissionError("the trigger's secret is not readable: the delivery cannot be verified")
        return base64.b64decode(data[str(ref["key"])]).decode()

    def parse_at(self, params: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> Delivery | None:
        target = WebhookTarget(params["namespace"], params["agent"], params["trigger"])
        lowered = _lowered(headers)
        if not verify(self._secret(target), body, lowered.get(SIGNATURE_HEADER.lower())):
            raise PermissionError(f"webhook signature ({SIGNATURE_HEADER}) is missing or does not match the secret")
        delivery_id = lowered.get(GENERIC_DELIVERY_HEADER.lower()) or lowered.get(DELIVERY_HEADER.lower(), "")
        delivery = EventDelivery("webhook", delivery_id, _json_object(body), target)
        # Deduplicated per target: two triggers may be sent the same id.
        return Delivery(f"{target.namespace}/{target.agent}/{target.trigger}/{delivery.key}", delivery)

    def route(self, event: object) -> list[Callable[[], None]]:
        assert isinstance(event, EventDelivery)
        return [functools.partial(self._dispatch, event)]


class Triggers:
    """Dispatches deliveries to runs, and posts the replies runs owe."""

    def __init__(self, ctx: OperatorContext, index: TriggerIndex, forge: TriggerForge | None) -> None:
        self.ctx = ctx
        self.index = index
        self.forge = forge
        # Replies posted by this operator, by run uid: a watch event older than the annotation that
        # records a reply must not post it again.
        self._posted: set[tuple[str, str]] = set()
        self._posted_lock = threading.Lock()
        # One decision at a time per subject (per Agent with a rate limit), so two deliveries about one
        # issue cannot both see no active run.
        self._subjects: dict[tuple[str, ...], threading.Lock] = {}
        self._subjects_lock = threading.Lock()

    def dispatch(self, delivery: EventDelivery) -> None:
        """Run one delivery's plan; called on the thread pool, never raises."""
        what = f"delivery {delivery.event} {delivery.key}"

        self.index.in_kopf_context(lambda: attempt(self.ctx.metrics, TRIGGERS, what, lambda: self.reconcile(delivery)))

    def reconcile(self, delivery: EventDelivery) -> None:
        # Each planned run on its own: a failed reply or create for one Agent never stops the others.
        for planned in plan_delivery(delivery, self.index.agents()):
            what = f"{planned.namespace}/{planned.agent} trigger {planned.trigger}"
            attempt(self.ctx.metrics, TRIGGERS, what, functools.partial(self._apply, planned))

    def _apply(self, planned: Planned) -> None:
        thread = planned.facts.thread
        if planned.error:
            reply = invalid_input_reply(thread, planned.agent, planned.trigger, planned.error) if thread else None
            self._not_started(planned, "Warning", c.TRIGGER_INPUT_INVALID, planned.error, reply, always=True)
            return
        if planned.refusal:
            reply = refusal_reply(thread, planned.agent, planned.refusal) if thread else None
            self._not_started(planned, "Normal", c.TRIGGER_REFUSED, planned.refusal, reply, always=True)
            return
        permission, member_of = self._sender_standing(planned)
        refusal = authorise(planned.authorization, planned.facts, permission, member_of)
        if refusal is not None:
            if not refusal.quiet:
                reply = refusal_reply(thread, planned.agent, refusal.message) if thread else None
                self._not_started(planned, "Normal", c.TRIGGER_REFUSED, refusal.message, reply)
            return
        assert planned.run is not None
        agent_body = self.index.body(planned.namespace, planned.agent) or {}
        with self._subject_lock(planned):
            decision = self._admission(planned)
            if not decision.create:
                reply = refusal_reply(thread, planned.agent, decision.message) if thread else None
                self._not_started(planned, "Normal", c.TRIGGER_SKIPPED, decision.message, reply)
                return
            for name in decision.cancel:
                self.ctx.kube.patch(AGENT_RUNS, planned.namespace, name, {"spec": {"cancel": True}})
                self.ctx.post_event(agent_body, "Normal", c.RUN_REPLACED, f"cancelled {name}: {decision.message}")
            _, created = self.ctx.kube.create(AGENT_RUNS, planned.run)
        if created:
            what = f"created {planned.run_name} for {planned.facts.event} (trigger {planned.trigger})"
            self.ctx.post_event(agent_body, "Normal", c.RUN_TRIGGERED, what)
            self._react(planned, ACTED_ON)

    def _sender_standing(self, planned: Planned) -> tuple[str | None, tuple[str, ...]]:
        """The sender's repository permission and the first of the rule's teams they are an active member
        of, each looked up only when the delivery alone cannot decide."""
        rule, facts, forge = planned.authorization, planned.facts, self.forge
        if rule is None or forge is None or not needs_permission(rule, facts):
            return None, ()
        permission = forge.permission(facts.repo, facts.sender)
        for team in teams_to_ask(rule, facts, permission):
            org, _, slug = team.partition("/")
            if forge.team_membership(org, slug, facts.sender) == "active":
                return permission, (team,)
        return permission, ()

    def _not_started(
        self, planned: Planned, type_: str, reason: str, message: str, reply: Reply | None, *, always: bool = False
    ) -> None:
        """An Event on the Agent; for a slash command (or `always`) the reply, and a reaction on the command."""
        agent_body = self.index.body(planned.namespace, planned.agent) or {}
        self.ctx.post_event(agent_body, type_, reason, f"trigger {planned.trigger}: {message}")
        if reply is not None and (planned.command or always):
            self._post(reply)
        self._react(planned, NOT_STARTED)

    def _react(self, planned: Planned, content: str) -> None:
        facts, forge = planned.facts, cast(object, self.forge)  # reacting is optional: not every forge can
        if planned.command and facts.thread and facts.comment_id and isinstance(forge, Reacting):
            forge.react(facts.thread.repo, facts.thread.number, facts.comment_id, content)

    def _subject_lock(self, planned: Planned) -> threading.Lock:
        # A rate limit counts all the Agent's event runs, so it serialises the Agent's decisions.
        key: tuple[str, ...] = (planned.namespace, planned.agent)
        if planned.rate_limit is None:
            key += (planned.trigger, planned.subject)
        with self._subjects_lock:
            return self._subjects.setdefault(key, threading.Lock())

    def _admission(self, planned: Planned) -> ConcurrencyDecision:
        pushes = bool((planned.run or {}).get("spec", {}).get("pullRequest"))  # its own commits are looked for
        limited = planned.rate_limit is not None or planned.cooldown_seconds is not None or pushes
        if not limited and (not planned.subject or planned.concurrency_policy == "Allow"):
            return ConcurrencyDecision(create=True)  # nothing to count: no list call
        selector = {k.LABEL_AGENT: planned.agent, k.LABEL_TRIGGER: "event"}
        runs = [_event_run(run) for run in self.ctx.kube.list(AGENT_RUNS, planned.namespace, selector)]
        return decide_admission(planned, runs, self.ctx.clock())

    def _post(self, reply: Reply) -> None:
        if self.forge is not None:
            self.forge.comment(reply.thread.repo, reply.thread.number, reply.body)

    def reply(self, run: Mapping[str, Any]) -> None:
        """Post the replies the run owes, then record them on it."""
        due = due_replies(run)
        if not due or self.forge is None:
            return
        metadata = run.get("metadata") or {}
        uid = str(metadata.get("uid") or metadata.get("name"))
        marks = replied(metadata.get("annotations") or {})
        for reply in due:
            with self._posted_lock:
                fresh = (uid, reply.mark) not in self._posted
            if fresh:
                self._post(reply)  # a ForgeError leaves it unmarked: the run's next event tries again
                with self._posted_lock:
                    self._posted.add((uid, reply.mark))
            marks.add(reply.mark)
        patch = {"metadata": {"annotations": {k.ANNOTATION_REPLIED: marks_value(marks)}}}
        self.ctx.kube.patch(AGENT_RUNS, metadata.get("namespace") or "default", str(metadata.get("name")), patch)

    def forget(self, run: Mapping[str, Any]) -> None:
        """A deleted run's replies need no more remembering."""
        uid = str((run.get("metadata") or {}).get("uid") or (run.get("metadata") or {}).get("name"))
        with self._posted_lock:
            self._posted = {entry for entry in self._posted if entry[0] != uid}


def register(registry: kopf.OperatorRegistry, ctx: OperatorContext, triggers: Triggers) -> None:
    def reconcile_replies(namespace: str, name: str) -> None:
        run = ctx.kube.get(AGENT_RUNS, namespace, name)
        if run is not None:
            triggers.reply(run)

    ctx.workers.register(TRIGGER_REPLIES, reconcile_replies)

    @kopf.on.event(k.GROUP, k.VERSION, k.PLURAL_AGENTS, registry=registry)
    def index_triggers(*, type: str, namespace: str | None, name: str, body: kopf.Body, **_: Any) -> None:
        triggers.index.observe(namespace or "default", name, None if type == "DELETED" else dict(body))

    def reply_on_thread(type: str | None, body: Body) -> None:
        meta = body.get("metadata") or {}
        if k.ANNOTATION_REPLY_TO not in (meta.get("annotations") or {}):
            return
        if type == "DELETED":
            triggers.forget(body)
            return
        ctx.workers.enqueue(TRIGGER_REPLIES, str(meta.get("namespace") or "default"), str(meta.get("name")))

    ctx.run_events.subscribe(reply_on_thread)
