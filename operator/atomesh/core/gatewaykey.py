"""An Agent's LiteLLM virtual key: which key, with which budget, and what to do about the one the gateway has.

Pure. An Agent with `spec.harness.virtualKey: true` (and `gateway: litellm`) gets one key of its own,
created through the LiteLLM proxy's key API (`/key/generate`, `/key/update`, `/key/delete`) with the
operator's master key. Invariants:

- one key per Agent, found by its alias `atomesh/<namespace>/<agent>` (deterministic, so a restarted
  operator finds the key it made and never makes a second);
- the key's `max_budget`/`budget_duration` come from the Agent's `spec.budget`: `perDay.usd` as `1d`,
  else `perMonth.usd` as `1mo` (LiteLLM keeps one budget per key; the daily one is the tighter guard on
  a run away in flight). Token limits have no LiteLLM key equivalent and stay the operator's alone. The
  gateway's window is its own (from the key's creation, in the proxy's time zone), so it is a backstop
  to the operator's accounting (Queued/BudgetExceeded), not a replacement;
- `models` is `[spec.harness.model]`, `metadata` names the Agent and namespace;
- the key's value is known only when it is generated (LiteLLM stores its hash): it lives in the Secret
  `gateway_key_secret_name(agent)`, owned by the Agent. A key the gateway has but whose value the Secret
  lost is deleted and generated again; one whose settings drifted is updated in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.common import ConditionStatus, dump
from atomesh.core.conditions import condition, merge_conditions
from atomesh.core.hashing import bounded_name
from atomesh.core.plan import Plan
from atomesh.core.requeue import Transient

ALIAS_PREFIX = "atomesh"
SECRET_SUFFIX = "-gateway-key"  # noqa: S105 - a name, not a secret
SECRET_KEY = "api-key"  # noqa: S105 - a key name in the Secret
DAY, MONTH = "1d", "1mo"

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class KeySettings:
    """What LiteLLM's `/key/generate` and `/key/update` are given for an Agent's key (all but the alias
    are compared with the gateway's key to decide an update)."""

    alias: str
    models: tuple[str, ...]
    max_budget: float | None
    budget_duration: str | None
    metadata: Mapping[str, str]

    def body(self) -> dict[str, Any]:
        """The JSON fields of `/key/generate` (and, with `key`, of `/key/update`)."""
        return {
            "key_alias": self.alias,
            "models": list(self.models),
            "max_budget": self.max_budget,
            "budget_duration": self.budget_duration,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class GatewayKey:
    """A key as the gateway describes it (`/key/list?return_full_object=true`): never its value."""

    token: str  # the hash LiteLLM keeps, which `/key/update` and `/key/delete` accept in place of the key
    alias: str
    models: tuple[str, ...]
    max_budget: float | None
    budget_duration: str | None
    metadata: Mapping[str, Any]

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> GatewayKey:
        """From a key object of `/key/list?return_full_object=true` (or `/key/info`'s `info`)."""
        budget = info.get("max_budget")
        return cls(
            token=str(info.get("token") or ""),
            alias=str(info.get("key_alias") or ""),
            models=tuple(str(model) for model in info.get("models") or ()),
            max_budget=float(budget) if isinstance(budget, int | float) else None,
            budget_duration=info.get("budget_duration") or None,
            metadata=metadata if isinstance(metadata := info.get("metadata"), dict) else {},
        )

    def holds(self, key: str) -> bool:
        """Whether `key` is this key's value: LiteLLM's token is the sha256 of the key, in hex."""
        return bool(key) and hashlib.sha256(key.encode()).hexdigest() == self.token


@dataclass(frozen=True)
class KeyOutcome:
    """How the Agent's key turned out: the VirtualKeyReady condition's reason and message, and whether
    to try again with backoff."""

    reason: str
    message: str
    retry: bool = False


KeyAction = Literal["none", "generate", "update", "replace", "delete"]


def key_alias(namespace: str, agent: str) -> str:
    return f"{ALIAS_PREFIX}/{namespace}/{agent}"


def gateway_key_secret_name(agent: str) -> str:
    """The Secret holding the Agent's key; bounded so any Agent name gives a valid Secret name."""
    return bounded_name(agent, SECRET_SUFFIX, 253)


def wants_virtual_key(spec: AgentSpec | None) -> bool:
    return spec is not None and bool(spec.harness.virtual_key) and spec.harness.gateway == "litellm"


def key_settings(namespace: str, agent: str, spec: AgentSpec) -> KeySettings:
    """The key the Agent should have."""
    max_budget, duration = None, None
    budget = spec.budget
    if budget is not None and budget.per_day is not None and budget.per_day.usd is not None:
        max_budget, duration = budget.per_day.usd, DAY
    elif budget is not None and budget.per_month is not None and budget.per_month.usd is not None:
        max_budget, duration = budget.per_month.usd, MONTH
    return KeySettings(
        alias=key_alias(namespace, agent),
        models=(spec.harness.model,),
        max_budget=max_budget,
        budget_duration=duration,
        metadata={"agent": agent, "namespace": namespace, "managedBy": ALIAS_PREFIX},
    )


def plan_key(desired: KeySettings | None, found: GatewayKey | None, *, secret_has_key: bool) -> KeyAction:
    """What to do with the gateway's key: `desired` None means the Agent does not (or no longer) want one."""
    if desired is None:
        return "delete" if found is not None else "none"
    if found is None:
        return "generate"
    if not secret_has_key:
        return "replace"
    same = (
        tuple(found.models) == desired.models
        and found.max_budget == desired.max_budget
        and found.budget_duration == desired.budget_duration
        and all(found.metadata.get(name) == value for name, value in desired.metadata.items())
    )
    return "none" if same else "update"


def check_virtual_key(spec: AgentSpec) -> list[tuple[Loc, str]]:
    """`virtualKey` needs a LiteLLM gateway and replaces `credentialsSecretRef`."""
    harness = spec.harness
    if not harness.virtual_key:
        return []
    loc: Loc = ("spec", "harness", "virtualKey")
    if harness.gateway != "litellm":
        return [(loc, "a virtual key is created through a LiteLLM proxy: set spec.harness.gateway: litellm")]
    if harness.credentials_secret_ref is not None:
        return [
            (
                loc,
                "the virtual key replaces spec.harness.credentialsSecretRef: remove one of them",
            )
        ]
    return []


def describe(settings: KeySettings) -> str:
    """The key's settings for a message (never its value)."""
    budget = (
        f"max_budget ${settings.max_budget:g} per {settings.budget_duration}"
        if settings.max_budget is not None
        else "no max_budget (spec.budget has no perDay or perMonth usd)"
    )
    return f"key {settings.alias}: {budget}, models {list(settings.models)}"


def with_virtual_key(plan: Plan, outcome: KeyOutcome | None, *, generation: int | None, now: str) -> Plan:
    """The Agent's plan with its VirtualKeyReady condition set from `outcome` (dropped for None: the Agent
    has no virtual key), and a retry when the outcome asks for one and the plan has none."""
    if plan.status is None:
        return plan
    had = any(cond.get("type") == c.VIRTUAL_KEY_READY for cond in plan.status.get("conditions") or [])
    if outcome is None and not had:
        return plan
    status = AgentStatus.model_validate(dict(plan.status))
    if outcome is None:
        conditions = [cond for cond in status.conditions if cond.type != c.VIRTUAL_KEY_READY]
    else:
        ready: ConditionStatus = c.TRUE if outcome.reason == c.VIRTUAL_KEY_ISSUED else c.FALSE
        wanted = condition(c.VIRTUAL_KEY_READY, ready, outcome.reason, outcome.message, generation)
        conditions = merge_conditions(status.conditions, [wanted], now)
    requeue = plan.requeue
    if requeue is None and outcome is not None and outcome.retry:
        requeue = Transient(f"virtual key: {outcome.message}")
    return replace(plan, status=dump(status.model_copy(update={"conditions": conditions})), requeue=requeue)
