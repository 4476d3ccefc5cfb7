"""Which virtual key an Agent gets, what to do with the one the gateway has, and its condition."""

from __future__ import annotations

import hashlib
from typing import Any

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec
from atomesh.core.gatewaykey import (
    GatewayKey,
    KeyOutcome,
    check_virtual_key,
    gateway_key_secret_name,
    key_settings,
    plan_key,
    wants_virtual_key,
    with_virtual_key,
)
from atomesh.core.plan import Plan
from atomesh.core.requeue import Transient
from atomesh.core.validation import validate_agent_spec


def spec(harness: dict[str, Any] | None = None, budget: dict[str, Any] | None = None) -> AgentSpec:
    return AgentSpec.model_validate(
        {
            "purpose": "Tidy.",
            "instructions": "Tidy.",
            "output": {"artifact": "code"},
            "workspace": {"repo": "acme/app"},
            "harness": {"model": "claude-sonnet-4-6", "gateway": "litellm", "virtualKey": True, **(harness or {})},
            **({"budget": budget} if budget is not None else {}),
        }
    )


def found(settings_body: dict[str, Any], key: str = "sk-abc") -> GatewayKey:
    return GatewayKey.from_info({"token": hashlib.sha256(key.encode()).hexdigest(), **settings_body})


def test_the_key_takes_the_daily_budget_else_the_monthly_one_and_the_agents_model() -> None:
    daily = key_settings("team", "tidy", spec(budget={"perDay": {"usd": 0.05}, "perMonth": {"usd": 1}}))
    assert (daily.alias, daily.max_budget, daily.budget_duration) == ("atomesh/team/tidy", 0.05, "1d")
    assert daily.models == ("claude-sonnet-4-6",)
    assert daily.metadata == {"agent": "tidy", "namespace": "team", "managedBy": "atomesh"}
    monthly = key_settings("team", "tidy", spec(budget={"perMonth": {"usd": 3}}))
    assert (monthly.max_budget, monthly.budget_duration) == (3, "1mo")
    tokens_only = key_settings("team", "tidy", spec(budget={"perDay": {"tokens": 1000}}))
    assert (tokens_only.max_budget, tokens_only.budget_duration) == (None, None)
    assert key_settings("team", "tidy", spec()).max_budget is None


def test_a_key_is_generated_once_kept_updated_on_drift_and_replaced_when_its_value_is_lost() -> None:
    desired = key_settings("team", "tidy", spec(budget={"perDay": {"usd": 0.05}}))
    assert plan_key(desired, None, secret_has_key=False) == "generate"
    same = found(desired.body())
    assert plan_key(desired, same, secret_has_key=True) == "none"
    assert plan_key(desired, same, secret_has_key=False) == "replace"
    raised = key_settings("team", "tidy", spec(budget={"perDay": {"usd": 0.5}}))
    assert plan_key(raised, same, secret_has_key=True) == "update"
    other_model = key_settings("team", "tidy", spec({"model": "claude-opus-4-1"}, budget={"perDay": {"usd": 0.05}}))
    assert plan_key(other_model, same, secret_has_key=True) == "update"
    # The gateway adds its own metadata: only atomesh's fields are compared.
    extra = found({**desired.body(), "metadata": {**desired.metadata, "tags": ["x"]}})
    assert plan_key(desired, extra, secret_has_key=True) == "none"
    assert plan_key(None, same, secret_has_key=True) == "delete"
    assert plan_key(None, None, secret_has_key=False) == "none"


def test_a_gateway_key_holds_only_its_own_value() -> None:
    key = found({"key_alias": "atomesh/team/tidy"}, key="sk-right")
    assert key.holds("sk-right")
    assert not key.holds("sk-wrong")
    assert not key.holds("")


def test_a_virtual_key_needs_the_litellm_gateway_and_replaces_the_credentials_secret() -> None:
    assert check_virtual_key(spec()) == []
    no_gateway = spec({"gateway": None})
    assert not wants_virtual_key(no_gateway)
    [(loc, message)] = check_virtual_key(no_gateway)
    assert loc == ("spec", "harness", "virtualKey")
    assert "gateway: litellm" in message
    both = spec({"credentialsSecretRef": {"name": "model", "key": "api-key"}})
    assert "remove one of them" in check_virtual_key(both)[0][1]
    assert [error.path for error in validate_agent_spec(both)] == ["spec.harness.virtualKey"]


def test_the_secret_name_is_bounded() -> None:
    assert gateway_key_secret_name("tidy") == "tidy-gateway-key"
    long = gateway_key_secret_name("a" * 253)
    assert len(long) <= 253
    assert long.endswith("-gateway-key")


def test_the_condition_is_set_dropped_and_a_transient_failure_retried() -> None:
    plan = Plan(status={"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}]})
    assert with_virtual_key(plan, None, generation=1, now="t0") is plan  # no key, none before: untouched
    issued = with_virtual_key(plan, KeyOutcome(c.VIRTUAL_KEY_ISSUED, "key atomesh/team/tidy"), generation=2, now="t1")
    conditions = {cond["type"]: cond for cond in (issued.status or {})["conditions"]}
    assert conditions[c.VIRTUAL_KEY_READY]["status"] == "True"
    assert conditions[c.VIRTUAL_KEY_READY]["observedGeneration"] == 2
    assert conditions["Ready"]["status"] == "True"
    assert issued.requeue is None

    down = with_virtual_key(issued, KeyOutcome(c.GATEWAY_UNREACHABLE, "timeout", retry=True), generation=2, now="t2")
    ready = next(cond for cond in (down.status or {})["conditions"] if cond["type"] == c.VIRTUAL_KEY_READY)
    assert (ready["status"], ready["reason"], ready["lastTransitionTime"]) == ("False", c.GATEWAY_UNREACHABLE, "t2")
    assert isinstance(down.requeue, Transient)

    gone = with_virtual_key(down, None, generation=3, now="t3")
    assert [cond["type"] for cond in (gone.status or {})["conditions"]] == ["Ready"]
