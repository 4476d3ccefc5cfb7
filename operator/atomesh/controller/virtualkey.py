"""An Agent's LiteLLM virtual key, made real: the gateway's key (`gateway.KeyGateway`) and the Secret
`<agent>-gateway-key` that carries its value to the run's model proxy. What to do is decided in
`core.gatewaykey`; this module only asks and writes.

The key is settled during the Agent's reconcile (`reconcile_agent` merges the VirtualKeyReady condition
into its status, so the status has one writer). The Secret is owned by the Agent, so Kubernetes deletes
it with the Agent. The gateway's key goes when the Agent opts out (its status still has the condition)
and, best effort, when the operator sees the Agent's deletion: Agents carry no finalizer, so a deletion
the operator does not see (it was down) leaves the key in the gateway, unusable by anyone since its
only copy went with the Secret. Neither key ever enters a log line, an Event or the status.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec
from atomesh.api.constants import GROUP
from atomesh.controller.context import OperatorContext
from atomesh.core.gatewaykey import (
    SECRET_KEY,
    GatewayKey,
    KeyOutcome,
    describe,
    gateway_key_secret_name,
    key_alias,
    key_settings,
    plan_key,
    wants_virtual_key,
)
from atomesh.core.requeue import Transient
from atomesh.gateway.errors import GatewayError
from atomesh.gateway.protocol import KeyGateway
from atomesh.kube.client import Body
from atomesh.kube.resources import AGENTS, SECRETS

log = logging.getLogger(__name__)
KEY_DELETION = "virtual-key-deletion"
LABEL_AGENT = f"{GROUP}/agent"
NOT_CONFIGURED = (
    "the operator has no master key for the LiteLLM proxy's key API: set the chart value gateway.masterKeySecret "
    "(env ATOMESH_GATEWAY_MASTER_KEY) or remove spec.harness.virtualKey"
)


def settle_virtual_key(ctx: OperatorContext, body: Body, spec: AgentSpec) -> KeyOutcome | None:
    """Make the Agent's key and Secret what its spec asks; None when it has (and had) no key."""
    meta = body.get("metadata") or {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    had_key = any(cond.get("type") == c.VIRTUAL_KEY_READY for cond in (body.get("status") or {}).get("conditions", []))
    if not wants_virtual_key(spec):
        return _withdraw(ctx, namespace, name) if had_key else None
    gateway = ctx.key_gateway
    if gateway is None:
        return KeyOutcome(c.GATEWAY_NOT_CONFIGURED, NOT_CONFIGURED)
    desired = key_settings(namespace, name, spec)
    try:
        info = gateway.find_key(desired.alias)
        found = GatewayKey.from_info(info) if info is not None else None
        stored = _stored_key(ctx, namespace, name)
        action = plan_key(desired, found, secret_has_key=found is not None and found.holds(stored))
        if action == "update" and found is not None:
            gateway.update_key(found.token, desired.body())
        elif action in ("generate", "replace"):
            if action == "replace":
                gateway.delete_key(desired.alias)
            _store_key(ctx, body, gateway.generate_key(desired.body()))
    except GatewayError as exc:
        reason = c.GATEWAY_UNREACHABLE if exc.transient else c.GATEWAY_REFUSED
        log.warning("Agent %s/%s: virtual key %s: %s", namespace, name, desired.alias, exc)
        return KeyOutcome(reason, str(exc), retry=exc.transient)
    if action != "none":
        log.info("Agent %s/%s: virtual key %s (%s)", namespace, name, desired.alias, action)
    return KeyOutcome(c.VIRTUAL_KEY_ISSUED, describe(desired))


def _withdraw(ctx: OperatorContext, namespace: str, name: str) -> KeyOutcome | None:
    """The Agent opted out: its key goes from the gateway, its Secret from the namespace."""
    if ctx.key_gateway is not None:
        try:
            _delete_key(ctx.key_gateway, key_alias(namespace, name))
        except GatewayError as exc:
            reason = c.GATEWAY_UNREACHABLE if exc.transient else c.GATEWAY_REFUSED
            return KeyOutcome(reason, f"deleting the virtual key: {exc}", retry=exc.transient)
    ctx.kube.delete(SECRETS, namespace, gateway_key_secret_name(name))
    return None


def _delete_key(gateway: KeyGateway, alias: str) -> None:
    if gateway.find_key(alias) is not None:
        gateway.delete_key(alias)


def _stored_key(ctx: OperatorContext, namespace: str, name: str) -> str:
    secret = ctx.kube.get(SECRETS, namespace, gateway_key_secret_name(name)) or {}
    encoded = (secret.get("data") or {}).get(SECRET_KEY)
    return base64.b64decode(encoded).decode() if isinstance(encoded, str) else ""


def _store_key(ctx: OperatorContext, agent: Body, key: str) -> None:
    meta = agent.get("metadata") or {}
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    secret_name = gateway_key_secret_name(name)
    data = {SECRET_KEY: base64.b64encode(key.encode()).decode()}
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": secret_name, "namespace": namespace, "labels": {LABEL_AGENT: name}},
        "data": data,
    }
    kopf.adopt(manifest, owner=agent)  # type: ignore[arg-type]
    _, created = ctx.kube.create(SECRETS, manifest)
    if not created:
        ctx.kube.patch(SECRETS, namespace, secret_name, {"data": data})


def delete_virtual_key(ctx: OperatorContext, namespace: str, name: str) -> None:
    """After the Agent's deletion: its key goes from the gateway (unless an Agent of that name is back)."""
    if ctx.key_gateway is None or ctx.kube.get(AGENTS, namespace, name) is not None:
        return
    alias = key_alias(namespace, name)
    try:
        _delete_key(ctx.key_gateway, alias)
    except GatewayError as exc:
        if exc.transient:
            raise Transient(f"deleting virtual key {alias}: {exc}") from None
        log.warning("Agent %s/%s deleted: its virtual key %s stays in the gateway: %s", namespace, name, alias, exc)
        return
    log.info("Agent %s/%s deleted: virtual key %s deleted", namespace, name, alias)


def had_virtual_key(body: Mapping[str, Any]) -> bool:
    harness = ((body.get("spec") or {}).get("harness")) or {}
    return bool(harness.get("virtualKey")) and harness.get("gateway") == "litellm"


def register(ctx: OperatorContext) -> None:
    ctx.workers.register(KEY_DELETION, lambda namespace, name: delete_virtual_key(ctx, namespace, name))


def on_deleted(ctx: OperatorContext, body: Mapping[str, Any]) -> None:
    """A watch event DELETED of an Agent: queue its key's deletion if it had one."""
    if had_virtual_key(body):
        meta = body.get("metadata") or {}
        ctx.workers.enqueue(KEY_DELETION, str(meta.get("namespace") or "default"), str(meta.get("name") or ""))
