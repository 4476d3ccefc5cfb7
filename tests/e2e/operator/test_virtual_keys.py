"""An Agent's LiteLLM virtual key with the real operator: kubectl applies an Agent with
`spec.harness.virtualKey`, the operator makes its key through the LiteLLM key API (the documented routes,
tests/fixtures/litellm_keys.py) and keeps it in a Secret the Agent owns; a budget change updates the key
and deleting the Agent deletes it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import pytest

from atomesh.controller.main import OperatorThread
from atomesh.gateway.litellm import LiteLLMKeys
from atomesh.kube.resources import SECRETS
from tests.e2e.operator.conftest import Stack, agent_manifest, namespace_stack, operator_config
from tests.fixtures.kube import RunningKubeAPI
from tests.fixtures.litellm_keys import LiteLLMKeyAPI

pytestmark = pytest.mark.e2e
NAMESPACE = "virtual-keys"
MASTER = "sk-master-e2e-0123456789"
MODEL = "claude-sonnet-4-5"
ALIAS = f"atomesh/{NAMESPACE}/tidy"


@pytest.fixture
def stack(cluster: RunningKubeAPI) -> Iterator[Stack]:
    with namespace_stack(cluster, NAMESPACE) as stack:
        yield stack


def test_an_agents_key_follows_it_from_creation_to_deletion(cluster: RunningKubeAPI, stack: Stack) -> None:
    with (
        LiteLLMKeyAPI(master_key=MASTER, models=frozenset({MODEL})) as proxy,
        OperatorThread(
            operator_config(), str(cluster.kubeconfig), (NAMESPACE,), key_gateway=LiteLLMKeys(proxy.url, MASTER)
        ),
    ):
        harness = {"model": MODEL, "gateway": "litellm", "virtualKey": True}
        stack.apply(agent_manifest(harness=harness, budget={"perDay": {"usd": 0.05}}))
        stack.kubectl("wait", "--for=condition=VirtualKeyReady", "agent/tidy", "--timeout=60s")

        [key] = proxy.keys.values()
        assert (key["key_alias"], key["max_budget"], key["budget_duration"]) == (ALIAS, 0.05, "1d")
        secret = stack.kube.get(SECRETS, NAMESPACE, "tidy-gateway-key")
        assert secret is not None
        value = base64.b64decode(secret["data"]["api-key"]).decode()
        assert hashlib.sha256(value.encode()).hexdigest() == key["token"]
        [owner] = secret["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"]) == ("Agent", "tidy")

        stack.kubectl("patch", "agent", "tidy", "--type=merge", "-p", '{"spec":{"budget":{"perDay":{"usd":0.5}}}}')
        stack.wait_for("the key's budget to follow", lambda: [k["max_budget"] for k in proxy.keys.values()] == [0.5])
        assert len(proxy.keys) == 1  # updated in place, not made again

        agent_json = stack.kubectl("get", "agent", "tidy", "-o", "json")
        events = stack.kubectl("get", "events", "-o", "json")
        stack.kubectl("delete", "agent", "tidy")
        stack.wait_for("the key to go with the Agent", lambda: proxy.keys == {})
        assert proxy.requests[-1][2] == {"key_aliases": [ALIAS]}
        assert value not in agent_json
        assert value not in events
