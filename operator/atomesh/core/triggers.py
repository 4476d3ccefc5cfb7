"""Event triggers: which runs one delivery asks for, of which Agents, with which input, and who may ask.

`plan_delivery(delivery, agents)` is pure: the controller reads the Agents, calls it, checks each
planned run's authorisation (`core.triggers_auth.authorise`, after a permission lookup only when `needs_permission`),
and creates the runs through the Kube port.

Invariants:
- One delivery makes at most one run per (Agent, trigger). Its name is `<agent>-<trigger>-<hash of the
  delivery id>` (core.runfactory.run_name), so a redelivery, a second operator replica or a restart asks
  for the same name and the API server's AlreadyExists makes it a no-op: exactly once, by name. For a
  comment, an issue, a pull request or a push the hash is of what it reports instead
  (`EventDelivery.subject_key`): a captured delivery replayed under a new delivery id, or the same
  event seen by webhook and by the events API poller, asks for the same run as well.
- A run is planned only for an Agent that is not suspended, whose trigger's source, narrowing
  (core.triggers_github) and CEL filter all match, and never for a delivery about the Agent's own
  work (a pull request, push or check on one of its `atomesh/<agent>/` branches): an Agent whose
  pull requests trigger it would otherwise loop. A filter that fails to evaluate plans no run and
  reports the error, like a failed input mapping.
- The run's input is the trigger's `input` expressions, then a slash command's `key=value` words
  (converted to the schema's integer, number or boolean where it declares one), validated against the
  Agent's `spec.input.schema`. Any failure is a `Planned` with `error` and no manifest: the caller
  reports it (Event, reply), never raises.
- Every run carries its provenance: labels `atomesh.io/event-trigger` and `atomesh.io/event`,
  annotations with the delivery id, sender, source URL and the issue or pull request it replies on.
- A trigger with `publish: pullRequestBranch` plans a run with `spec.pullRequest` (the delivery's pull
  request number and head branch): the run commits to that branch instead of opening a pull request.
  A delivery naming no pull request starts nothing; one from a fork, or whose head branch is the
  repository's default branch, is refused (`Planned.refusal`, replied on the pull request). A check
  that ran on a commit one of the Agent's runs pushed starts nothing (`decide_admission`), so a fixer
  whose fix still fails does not loop.
- Per-trigger concurrency and cooldown are per subject: the issue or pull request, else a push's
  branch (label `atomesh.io/event-subject`, a hash); deliveries without a subject (generic webhooks)
  have neither. The Agent's rate limit counts all its event-triggered runs. `decide_admission` says
  what they make of the Agent's existing event runs; the run being asked for (a redelivery) never
  counts against itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from atomesh.api import constants as k
from atomesh.api.agent import Agent
from atomesh.api.common import parse_duration
from atomesh.api.triggers import EventConcurrencyPolicy, EventTrigger, TriggerAuthorization
from atomesh.core.hashing import short_hash
from atomesh.core.runfactory import RunRequest, build_run, run_name
from atomesh.core.triggers_cel import Activation, TriggerExpressionError, evaluate, matches
from atomesh.core.triggers_github import Facts, narrowed_out, read_command, read_facts
from atomesh.core.triggers_polling import reported_identity
from atomesh.core.validation import check_input

WEBHOOK_EVENT = "webhook"
DELIVERY_HASH = 10


@dataclass(frozen=True)
class WebhookTarget:
    """The trigger a generic webhook is addressed to (by its URL path)."""

    namespace: str
    agent: str
    trigger: str


@dataclass(frozen=True)
class EventDelivery:
    """One verified delivery: a GitHub event (name, payload) or a generic webhook to `target`."""

    event: str
    id: str
    payload: Mapping[str, Any]
    target: WebhookTarget | None = None

    @property
    def key(self) -> str:
        """The delivery's identity: the sender's id, or the digest of a payload that came without one."""
        if self.id:
            return self.id
        return hashlib.sha256(json.dumps(self.payload, sort_keys=True).encode()).hexdigest()

    @property
    def subject_key(self) -> str:
        """The identity of what the delivery reports (core.triggers_polling.reported_identity: a comment at
        a version, an issue's or pull request's action, a push), so a captured delivery replayed under a
        new id, or one seen by webhook and by poll, asks for the same run; else `key`."""
        reported = reported_identity(self.event, self.payload) if self.target is None else None
        return reported or self.key


@dataclass(frozen=True)
class Planned:
    """One (Agent, trigger) a delivery matched: the run to create, or why its input could not be made."""

    namespace: str
    agent: str
    trigger: str
    facts: Facts
    authorization: TriggerAuthorization | None
    command: bool = False
    run: dict[str, Any] | None = None
    error: str = ""
    concurrency_policy: EventConcurrencyPolicy = "Allow"
    subject: str = ""
    cooldown_seconds: int | None = None
    rate_limit: tuple[int, int] | None = None  # (runs, seconds)
    refusal: str = ""  # why the delivery may not start this trigger's run whoever sent it (e.g. a fork)

    @property
    def run_name(self) -> str:
        return str((self.run or {}).get("metadata", {}).get("name", ""))


@dataclass(frozen=True)
class ConcurrencyDecision:
    """Whether to create the run, and which active runs of the same subject to cancel first."""

    create: bool
    cancel: tuple[str, ...] = ()
    message: str = ""


def decide_concurrency(policy: EventConcurrencyPolicy, run: str, active: Sequence[str]) -> ConcurrencyDecision:
    """`active`: the Pending or Running runs of the same Agent, trigger and subject (the run itself excluded)."""
    others = tuple(sorted(name for name in active if name != run))
    if not others or policy == "Allow":
        return ConcurrencyDecision(create=True)
    if policy == "Replace":
        return ConcurrencyDecision(create=True, cancel=others, message=f"replaced by {run}")
    return ConcurrencyDecision(create=False, message=f"{others[0]} is still running for the same subject")


@dataclass(frozen=True)
class EventRun:
    """An existing event-triggered run of the Agent, as admission sees it."""

    name: str
    trigger: str
    subject: str
    created: datetime | None
    active: bool
    commit: str = ""  # the commit it pushed (status.artifact.commit), '' before publishing


def decide_admission(planned: Planned, runs: Sequence[EventRun], now: datetime) -> ConcurrencyDecision:
    """Rate limit, then cooldown, then concurrency policy, over the Agent's other event runs."""
    others = [run for run in runs if run.name != planned.run_name]
    sha = planned.facts.head_sha
    if sha and (planned.run or {}).get("spec", {}).get("pullRequest") and any(run.commit == sha for run in others):
        return ConcurrencyDecision(
            create=False,
            message=f"the delivery is about {sha[:12]}, a commit this agent pushed: it does not fix its own fix",
        )
    if planned.rate_limit is not None:
        limit, seconds = planned.rate_limit
        window = now - timedelta(seconds=seconds)
        recent = [run for run in others if run.created is not None and run.created > window]
        if len(recent) >= limit:
            return ConcurrencyDecision(
                create=False, message=f"the rate limit of {limit} event runs per {seconds}s is reached"
            )
    same = [
        run for run in others if planned.subject and (run.trigger, run.subject) == (planned.trigger, planned.subject)
    ]
    if planned.cooldown_seconds is not None:
        latest = max((run.created for run in same if run.created is not None), default=None)
        if latest is not None and now - latest < timedelta(seconds=planned.cooldown_seconds):
            age = int((now - latest).total_seconds())
            return ConcurrencyDecision(
                create=False,
                message=f"cooling down: the last run for the same subject started {age}s ago "
                f"(cooldown {planned.cooldown_seconds}s)",
            )
    if not planned.subject:
        return ConcurrencyDecision(create=True)
    active = [run.name for run in same if run.active]
    return decide_concurrency(planned.concurrency_policy, planned.run_name, active)


def subject_of(facts: Facts) -> str:
    """The label value that groups runs about the same issue, pull request or branch ('' for none)."""
    if facts.thread is not None:
        return short_hash(str(facts.thread), 16)
    if facts.branch and facts.repo:
        return short_hash(f"{facts.repo}@{facts.branch}", 16)
    return ""


def workspace_repository(repo: str) -> str:
    """owner/name of a workspace given as owner/name or as a git URL."""
    if "://" not in repo and not repo.startswith("git@"):
        return repo
    parts = repo.rstrip("/").removesuffix(".git").replace(":", "/").split("/")
    return "/".join(parts[-2:])


def triggered_run_name(agent: str, trigger: str, delivery: str) -> str:
    return run_name(f"{agent}-{trigger}", "-" + short_hash(delivery, DELIVERY_HASH))


def _coerce(args: Mapping[str, str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Command words as the schema's scalar types, where the word reads as one (else left for the schema to refuse)."""
    properties = schema.get("properties")
    declared: Mapping[str, Any] = properties if isinstance(properties, Mapping) else {}
    result: dict[str, Any] = {}
    for key, text in args.items():
        field = declared.get(key)
        kind = field.get("type") if isinstance(field, Mapping) else None
        value: Any = text
        try:
            if kind == "integer":
                value = int(text)
            elif kind == "number":
                value = float(text)
            elif kind == "boolean" and text.lower() in ("true", "false"):
                value = text.lower() == "true"
        except ValueError:
            value = text
        result[key] = value
    return result


def _input(trigger: EventTrigger, activation: Activation, schema: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    values: dict[str, Any] = {}
    errors: list[str] = []
    for key in sorted(trigger.input):
        try:
            values[key] = evaluate(trigger.input[key], activation)
        except TriggerExpressionError as error:
            errors.append(f"input {key!r}: {error}")
    values |= _coerce(activation.args or {}, schema)
    if not errors:
        errors = [f"input{''.join(f'.{part}' for part in e.loc)}: {e.message}" for e in check_input(values, schema, ())]
    return values, "; ".join(errors)


def _matching(delivery: EventDelivery, namespace: str, agent: Agent, facts: Facts) -> list[tuple[EventTrigger, bool]]:
    """The agent's triggers this delivery reaches (before filters), each with whether it is a slash command."""
    found: list[tuple[EventTrigger, bool]] = []
    repo = workspace_repository(agent.spec.workspace.repo)
    if facts.head_branch.startswith(f"{k.BRANCH_PREFIX}/{agent.metadata.name}/"):
        return []
    for trigger in agent.spec.triggers.events:
        if delivery.target is not None:
            target = delivery.target
            if trigger.webhook and (target.namespace, target.agent, target.trigger) == (
                namespace,
                agent.metadata.name,
                trigger.name,
            ):
                found.append((trigger, False))
        elif trigger.github and not narrowed_out(trigger.github, facts, trigger.github.repository or repo):
            found.append((trigger, trigger.github.event == "issue_comment"))
    return found


def plan_delivery(delivery: EventDelivery, agents: Sequence[tuple[str, Agent]]) -> list[Planned]:
    """The runs one delivery asks for, over (namespace, Agent) pairs, in a stable order."""
    facts = Facts(event=WEBHOOK_EVENT) if delivery.target is not None else read_facts(delivery.event, delivery.payload)
    planned: list[Planned] = []
    for namespace, agent in sorted(agents, key=lambda pair: (pair[0], pair[1].metadata.name)):
        if agent.spec.suspend:
            continue
        name = agent.metadata.name
        for trigger, is_command in _matching(delivery, namespace, agent, facts):
            command = None
            if is_command:
                assert trigger.github is not None
                command = read_command(facts.comment, name, trigger.github.command)
                if command is None:
                    continue  # a comment that is not addressed to this agent
            activation = Activation(
                payload=delivery.payload,
                event=facts.event,
                action=facts.action,
                sender=facts.sender,
                args=command.args if command else {},
            )
            authorization = trigger.authorization if trigger.github else None
            base = Planned(
                namespace,
                name,
                trigger.name,
                facts,
                authorization,
                command=command is not None,
                concurrency_policy=trigger.concurrency_policy,
                subject=subject_of(facts) if trigger.github else "",
                cooldown_seconds=parse_duration(trigger.cooldown) if trigger.cooldown else None,
                rate_limit=_rate_limit(agent),
            )
            if command is not None and command.error:
                planned.append(_with(base, error=command.error))
                continue
            try:
                if trigger.filter and not matches(trigger.filter, activation):
                    continue
            except TriggerExpressionError as error:
                planned.append(_with(base, error=f"filter: {error}"))
                continue
            target: dict[str, Any] | None = None
            if trigger.publish == "pullRequestBranch":
                if facts.thread is None or not facts.pull_head:
                    continue  # e.g. a check on a branch without a pull request: nothing to push to
                refusal = _push_refusal(facts)
                if refusal:
                    planned.append(_with(base, refusal=refusal))
                    continue
                target = {"number": facts.thread.number, "headBranch": facts.pull_head}
            values, error_text = _input(trigger, activation, agent.spec.input.json_schema)
            if error_text:
                planned.append(_with(base, error=error_text))
                continue
            request = _request(delivery, namespace, name, trigger, facts, values, base.subject)
            planned.append(_with(base, run=build_run(replace(request, pull_request=target))))
    return planned


def _push_refusal(facts: Facts) -> str:
    """Why a run may not push to the delivery's pull request branch ('' when it may)."""
    assert facts.thread is not None
    number = facts.thread.number
    if facts.from_fork:
        return (
            f"pull request #{number} comes from a fork; atomesh pushes only to branches of {facts.repo} "
            "(its token cannot and should not write to a contributor's fork)"
        )
    if facts.default_branch and facts.pull_head == facts.default_branch:
        return f"the head branch of pull request #{number} is {facts.repo}'s default branch {facts.pull_head!r}"
    return ""


def _rate_limit(agent: Agent) -> tuple[int, int] | None:
    limit = agent.spec.triggers.rate_limit
    return (limit.runs, parse_duration(limit.per)) if limit else None


def _with(base: Planned, **changes: Any) -> Planned:
    return Planned(**{**base.__dict__, **changes})


def _request(
    delivery: EventDelivery,
    namespace: str,
    agent: str,
    trigger: EventTrigger,
    facts: Facts,
    values: Mapping[str, Any],
    subject: str,
) -> RunRequest:
    source = facts.url or (
        f"{WEBHOOK_EVENT} {namespace}/{agent}/{trigger.name}" if delivery.target else f"{facts.event} {facts.repo}"
    )
    annotations = {k.ANNOTATION_DELIVERY: delivery.key}
    if facts.sender:
        annotations[k.ANNOTATION_SENDER] = facts.sender
    if facts.url:
        annotations[k.ANNOTATION_SOURCE_URL] = facts.url
    if facts.thread is not None:
        annotations[k.ANNOTATION_REPLY_TO] = str(facts.thread)
    labels = {k.LABEL_EVENT_TRIGGER: trigger.name, k.LABEL_EVENT: facts.event}
    if subject:
        labels[k.LABEL_EVENT_SUBJECT] = subject
    return RunRequest(
        name=triggered_run_name(agent, trigger.name, delivery.subject_key),
        agent=agent,
        trigger="event",
        source=source,
        namespace=namespace,
        input=values,
        labels=labels,
        annotations=annotations,
    )
