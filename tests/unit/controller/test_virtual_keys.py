"""An Agent's LiteLLM virtual key through the Agent's reconcile, on FakeKube and the fake gateway: one key
per Agent from its budget, its Secret owned by the Agent, updates, refusals as a condition, withdrawal."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from controller_fakes import NAMESPACE, Events, agent_manifest, operator_context

from atomesh.api import conditions as c
from atomesh.controller.agent import reconcile_agent
from atomesh.controller.context import OperatorContext
from atomesh.controller.virtualkey import delete_virtual_key, had_virtual_key
from atomesh.core.requeue import Transient
from atomesh.gateway.errors import GatewayRefused, GatewayUnavailable
from atomesh.gateway.fake import FakeKeys, hash_key
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENTS, SECRETS

ALIAS = f"atomesh/{NAMESPACE}/tidy"
MODEL = "claude-sonnet-4-6"
HARNESS = {"model": MODEL, "gateway": "litellm", "virtualKey": True}


def setup(budget: dict[str, Any] | None = None) -> tuple[OperatorContext, FakeKube, FakeKeys]:
    ctx, kube = operator_context(Events())
    keys = FakeKeys(models=frozenset({MODEL}))
    ctx.key_gateway = keys
    kube.create(AGENTS, agent_manifest("tidy", harness=HARNESS, budget=budget or {"perDay": {"usd": 0.05}}))
    return ctx, kube, keys


def key_condition(kube: FakeKube) -> dict[str, Any]:
    status = (kube.get(AGENTS, NAMESPACE, "tidy") or {}).get("status") or {}
    return next(cond for cond in status.get("conditions", []) if cond["type"] == c.VIRTUAL_KEY_READY)


def stored_key(kube: FakeKube) -> str:
    secret = kube.get(SECRETS, NAMESPACE, "tidy-gateway-key") or {}
    return base64.b64decode(secret["data"]["api-key"]).decode()


def test_an_agent_gets_one_key_from_its_budget_kept_in_a_secret_it_owns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ctx, kube, keys = setup()
    reconcile_agent(ctx, NAMESPACE, "tidy")

    [gateway_key] = keys.keys.values()
    assert gateway_key["key_alias"] == ALIAS
    assert (gateway_key["max_budget"], gateway_key["budget_duration"]) == (0.05, "1d")
    assert gateway_key["models"] == [MODEL]
    assert gateway_key["metadata"] == {"agent": "tidy", "namespace": NAMESPACE, "managedBy": "atomesh"}
    key = stored_key(kube)
    assert hash_key(key) == gateway_key["token"]
    secret = kube.get(SECRETS, NAMESPACE, "tidy-gateway-key") or {}
    [owner] = secret["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"]) == ("Agent", "tidy")
    condition = key_condition(kube)
    assert (condition["status"], condition["reason"]) == ("True", c.VIRTUAL_KEY_ISSUED)
    assert condition["message"] == f"key {ALIAS}: max_budget $0.05 per 1d, models ['{MODEL}']"

    keys.calls.clear()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert keys.calls == ["list"]  # found as it should be: nothing generated or changed
    assert stored_key(kube) == key
    status = str((kube.get(AGENTS, NAMESPACE, "tidy") or {}).get("status"))
    assert key not in status
    assert key not in caplog.text


def test_a_raised_budget_updates_the_key_in_place() -> None:
    ctx, kube, keys = setup()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    key = stored_key(kube)
    kube.patch(AGENTS, NAMESPACE, "tidy", {"spec": {"budget": {"perDay": None, "perMonth": {"usd": 2.0}}}})
    keys.calls.clear()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert keys.calls == ["list", "update"]
    [gateway_key] = keys.keys.values()
    assert (gateway_key["max_budget"], gateway_key["budget_duration"]) == (2.0, "1mo")
    assert stored_key(kube) == key


def test_a_key_whose_value_was_lost_is_replaced() -> None:
    ctx, kube, keys = setup()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    before = stored_key(kube)
    kube.delete(SECRETS, NAMESPACE, "tidy-gateway-key")
    reconcile_agent(ctx, NAMESPACE, "tidy")
    after = stored_key(kube)
    assert after != before
    assert [key["token"] for key in keys.keys.values()] == [hash_key(after)]


def test_a_refusal_is_a_condition_without_any_key_and_no_secret() -> None:
    ctx, kube, keys = setup()
    kube.patch(AGENTS, NAMESPACE, "tidy", {"spec": {"harness": {"model": "gpt-unknown"}}})
    reconcile_agent(ctx, NAMESPACE, "tidy")  # no exception: a refusal waits for a change
    condition = key_condition(kube)
    assert (condition["status"], condition["reason"]) == ("False", c.GATEWAY_REFUSED)
    assert "gpt-unknown" in condition["message"]
    assert kube.get(SECRETS, NAMESPACE, "tidy-gateway-key") is None

    keys.failure = GatewayRefused(401, "Authentication Error, Invalid proxy server token passed")
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert "HTTP 401" in key_condition(kube)["message"]


def test_an_unreachable_gateway_is_retried() -> None:
    ctx, kube, keys = setup()
    keys.failure = GatewayUnavailable("GET /key/list: connection refused")
    with pytest.raises(Transient, match="virtual key"):
        reconcile_agent(ctx, NAMESPACE, "tidy")
    assert key_condition(kube)["reason"] == c.GATEWAY_UNREACHABLE
    keys.failure = None
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert key_condition(kube)["reason"] == c.VIRTUAL_KEY_ISSUED


def test_without_a_master_key_the_agent_is_told_what_to_configure() -> None:
    ctx, kube, _ = setup()
    ctx.key_gateway = None
    reconcile_agent(ctx, NAMESPACE, "tidy")
    condition = key_condition(kube)
    assert (condition["status"], condition["reason"]) == ("False", c.GATEWAY_NOT_CONFIGURED)
    assert "gateway.masterKeySecret" in condition["message"]


def test_opting_out_deletes_the_key_and_its_secret() -> None:
    ctx, kube, keys = setup()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    kube.patch(AGENTS, NAMESPACE, "tidy", {"spec": {"harness": {"virtualKey": False}}})
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert keys.keys == {}
    assert kube.get(SECRETS, NAMESPACE, "tidy-gateway-key") is None
    status = (kube.get(AGENTS, NAMESPACE, "tidy") or {})["status"]
    assert c.VIRTUAL_KEY_READY not in [cond["type"] for cond in status["conditions"]]
    keys.calls.clear()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    assert keys.calls == []  # an Agent without a key costs the gateway nothing


def test_a_deleted_agents_key_is_deleted_unless_the_agent_is_back() -> None:
    ctx, kube, keys = setup()
    reconcile_agent(ctx, NAMESPACE, "tidy")
    body = kube.get(AGENTS, NAMESPACE, "tidy") or {}
    assert had_virtual_key(body)
    delete_virtual_key(ctx, NAMESPACE, "tidy")  # still there: kept
    assert len(keys.keys) == 1
    kube.delete(AGENTS, NAMESPACE, "tidy")
    assert kube.get(SECRETS, NAMESPACE, "tidy-gateway-key") is None  # owned: collected with the Agent
    keys.failure = GatewayUnavailable("connection refused")
    with pytest.raises(Transient):
        delete_virtual_key(ctx, NAMESPACE, "tidy")
    keys.failure = None
    delete_virtual_key(ctx, NAMESPACE, "tidy")
    assert keys.keys == {}
    delete_virtual_key(ctx, NAMESPACE, "tidy")  # already gone: nothing to do
