"""The LiteLLM key API client over HTTP, against the proxy's documented routes and shapes
(tests/fixtures/litellm_keys.py): what it sends, what it reads, and how refusals come back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.fixtures.litellm_keys import LiteLLMKeyAPI

from atomesh.commands.operator import ENV_GATEWAY_MASTER_KEY, key_gateway
from atomesh.core.config import OperatorConfig
from atomesh.core.gatewaykey import GatewayKey, KeySettings
from atomesh.gateway.errors import GatewayRefused, GatewayUnavailable
from atomesh.gateway.fake import FakeKeys
from atomesh.gateway.litellm import LiteLLMKeys

MASTER = "sk-master-0123456789abcdef"
ALIAS = "atomesh/team/tidy"
SETTINGS = KeySettings(
    alias=ALIAS,
    models=("claude-sonnet-4-6",),
    max_budget=0.05,
    budget_duration="1d",
    metadata={"agent": "tidy", "namespace": "team", "managedBy": "atomesh"},
)


@pytest.fixture
def proxy() -> Iterator[LiteLLMKeyAPI]:
    with LiteLLMKeyAPI(master_key=MASTER, models=frozenset({"claude-sonnet-4-6"})) as api:
        yield api


def test_a_key_is_generated_found_by_alias_updated_and_deleted(proxy: LiteLLMKeyAPI) -> None:
    client = LiteLLMKeys(proxy.url + "/", MASTER)
    assert client.find_key(ALIAS) is None

    key = client.generate_key(SETTINGS.body())
    assert key.startswith("sk-")
    method, path, body = proxy.requests[-1]
    assert (method, path) == ("POST", "/key/generate")
    assert body == {
        "key_alias": ALIAS,
        "models": ["claude-sonnet-4-6"],
        "max_budget": 0.05,
        "budget_duration": "1d",
        "metadata": {"agent": "tidy", "namespace": "team", "managedBy": "atomesh"},
    }

    info = client.find_key(ALIAS)
    assert info is not None
    assert proxy.requests[-1][1] == "/key/list?key_alias=atomesh%2Fteam%2Ftidy&return_full_object=true"
    found = GatewayKey.from_info(info)
    assert found.holds(key)
    assert not found.holds(key + "x")
    assert (found.max_budget, found.budget_duration, found.models) == (0.05, "1d", ("claude-sonnet-4-6",))

    client.update_key(found.token, {**SETTINGS.body(), "max_budget": 0.5})
    assert proxy.requests[-1][2]["key"] == found.token
    updated = client.find_key(ALIAS)
    assert updated is not None
    assert updated["max_budget"] == 0.5

    client.delete_key(ALIAS)
    assert proxy.requests[-1][:2] == ("POST", "/key/delete")
    assert proxy.requests[-1][2] == {"key_aliases": [ALIAS]}
    assert client.find_key(ALIAS) is None


def test_a_wrong_master_key_is_refused_without_showing_any_key(proxy: LiteLLMKeyAPI) -> None:
    wrong = "sk-wrong-master-key-9876543210"
    with pytest.raises(GatewayRefused) as refused:
        LiteLLMKeys(proxy.url, wrong).generate_key(SETTINGS.body())
    assert refused.value.status == 401
    assert "Authentication Error" in str(refused.value)
    assert wrong not in str(refused.value)
    assert wrong[-4:] not in str(refused.value)
    assert proxy.keys == {}


def test_a_model_the_proxy_does_not_serve_is_refused_naming_it(proxy: LiteLLMKeyAPI) -> None:
    with pytest.raises(GatewayRefused, match=r"HTTP 400: POST /key/generate: .*gpt-unknown"):
        LiteLLMKeys(proxy.url, MASTER).generate_key({**SETTINGS.body(), "models": ["gpt-unknown"]})


def test_an_alias_already_taken_is_refused(proxy: LiteLLMKeyAPI) -> None:
    client = LiteLLMKeys(proxy.url, MASTER)
    client.generate_key(SETTINGS.body())
    with pytest.raises(GatewayRefused, match="Unique key aliases"):
        client.generate_key(SETTINGS.body())


def test_an_unreachable_proxy_is_transient() -> None:
    with LiteLLMKeyAPI(master_key=MASTER, models=frozenset()) as api:
        url = api.url
    with pytest.raises(GatewayUnavailable) as unavailable:
        LiteLLMKeys(url, MASTER, timeout=2).find_key(ALIAS)
    assert unavailable.value.transient
    assert MASTER not in str(unavailable.value)


def test_the_operator_talks_to_the_configured_proxy_with_the_master_key_of_its_environment(
    proxy: LiteLLMKeyAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = OperatorConfig(model_base_url="http://127.0.0.1:9", gateway_url=proxy.url)
    monkeypatch.delenv(ENV_GATEWAY_MASTER_KEY, raising=False)
    assert key_gateway(config) is None
    monkeypatch.setenv(ENV_GATEWAY_MASTER_KEY, MASTER)
    gateway = key_gateway(config)
    assert gateway is not None
    assert gateway.find_key(ALIAS) is None
    assert proxy.requests[-1][:2] == ("GET", "/key/list?key_alias=atomesh%2Fteam%2Ftidy&return_full_object=true")


@pytest.mark.parametrize("kind", ["http", "fake"])
def test_the_fake_answers_as_the_client_does(proxy: LiteLLMKeyAPI, kind: str) -> None:
    """The controller tests' fake keeps the client's behaviour: same answers, same refusals."""
    gateway = LiteLLMKeys(proxy.url, MASTER) if kind == "http" else FakeKeys(models=frozenset({"claude-sonnet-4-6"}))
    key = gateway.generate_key(SETTINGS.body())
    info = gateway.find_key(ALIAS)
    assert info is not None
    assert GatewayKey.from_info(info).holds(key)
    assert {name: info[name] for name in SETTINGS.body()} == SETTINGS.body()
    with pytest.raises(GatewayRefused) as missing:
        gateway.update_key("0" * 64, SETTINGS.body())
    assert missing.value.status == 404
    with pytest.raises(GatewayRefused) as taken:
        gateway.generate_key(SETTINGS.body())
    assert taken.value.status == 400
    gateway.delete_key(ALIAS)
    with pytest.raises(GatewayRefused) as gone:
        gateway.delete_key(ALIAS)
    assert gone.value.status == 400
    assert gateway.find_key(ALIAS) is None
