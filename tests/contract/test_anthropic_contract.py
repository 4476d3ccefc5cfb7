"""The Anthropic contract check itself: what it accepts from the emulator and what it rejects."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import anthropic
import httpx

from atomesh.devstack.anthropic import traffic
from atomesh.devstack.anthropic.traffic import Exchange
from tests.fixtures.anthropic import StartEmulator

from .anthropic_check import check
from .anthropic_plugin import Collector

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = {"x-api-key": "sk-ant-contract"}
ASK = {"model": "emulator-small", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


def _exchanges(emulator_url: str, *requests: tuple[str, str, object]) -> list[Exchange]:
    """The emulator's real responses to `requests` (method, path, JSON body)."""
    seen: list[Exchange] = []
    stop = traffic.subscribe(seen.append)
    try:
        for method, path, body in requests:
            httpx.request(method, emulator_url + path, json=body, headers=KEY, timeout=30)
    finally:
        stop()
    return seen


def _with_body(exchange: Exchange, body: object) -> Exchange:
    return dataclasses.replace(exchange, body=json.dumps(body))


def test_every_endpoint_passes(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator({"turns": [{"match": {"contains": "hi"}, "text": "Hello.", "times": 0}]})
    seen = _exchanges(
        emulator.url,
        ("POST", "/v1/messages", ASK),
        ("POST", "/v1/messages", {**ASK, "stream": True}),
        ("POST", "/v1/messages/count_tokens", {"model": "emulator-small", "messages": ASK["messages"]}),
        ("GET", "/v1/models", None),
        ("GET", "/v1/models/claude-sonnet-4-5", None),
        ("GET", "/v1/models/claude-made-up-9", None),
        ("POST", "/v1/messages", {**ASK, "temperature": 5}),
    )
    assert [(e.path, e.status, bool(e.events)) for e in seen] == [
        ("/v1/messages", 200, False),
        ("/v1/messages", 200, True),
        ("/v1/messages/count_tokens", 200, False),
        ("/v1/models", 200, False),
        ("/v1/models/claude-sonnet-4-5", 200, False),
        ("/v1/models/claude-made-up-9", 404, False),
        ("/v1/messages", 400, False),
    ]
    ids: set[str] = set()
    assert [finding for exchange in seen for finding in check(exchange, ids)] == []
    assert len(ids) == len(seen)


def test_a_trimmed_model_fails_naming_endpoint_model_and_field(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    (exchange,) = _exchanges(emulator.url, ("GET", "/v1/models/claude-sonnet-4-5", None))
    body = json.loads(exchange.body)
    del body["lifecycle"]
    body["display_name"] = 4
    body["owner"] = "emulator"
    findings = {(f.subject, f.field, f.rule) for f in check(_with_body(exchange, body))}
    assert findings == {
        ("GET /v1/models/claude-sonnet-4-5 200 ModelInfo", "lifecycle", "missing"),
        ("GET /v1/models/claude-sonnet-4-5 200 ModelInfo", "display_name", "string_type"),
        ("GET /v1/models/claude-sonnet-4-5 200 ModelInfo", "owner", "extra"),
    }


def test_a_wrong_usage_and_stream_event_fail(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator([])
    plain, streamed = _exchanges(
        emulator.url, ("POST", "/v1/messages", ASK), ("POST", "/v1/messages", {**ASK, "stream": True})
    )
    message = json.loads(plain.body)
    message["usage"]["cache_creation"]["ephemeral_24h_input_tokens"] = 0
    message["usage"]["output_tokens"] = "12"
    findings = {(f.subject, f.field, f.rule) for f in check(_with_body(plain, message))}
    assert findings == {
        ("POST /v1/messages 200 Message", "usage.output_tokens", "int_type"),
        ("POST /v1/messages 200 Message", "usage.cache_creation.ephemeral_24h_input_tokens", "extra"),
    }
    events = list(streamed.events)
    stop = json.loads(events[-2].data)
    stop["delta"]["stop_reason"] = "finished"
    events[-2] = traffic.Event("message_delta", json.dumps(stop))
    (finding,) = check(dataclasses.replace(streamed, events=tuple(events)))
    assert (finding.subject, finding.field, finding.rule) == (
        "POST /v1/messages 200 RawMessageDeltaEvent",
        f"event {len(events) - 2} (message_delta).delta.stop_reason",
        "literal_error",
    )


def test_headers_and_error_bodies_are_held_to_the_documentation(anthropic_emulator: StartEmulator) -> None:
    emulator = anthropic_emulator({"turns": [{"match": {"contains": "hi"}, "error": 429, "retryAfter": 3}]})
    (limited,) = _exchanges(emulator.url, ("POST", "/v1/messages", ASK))
    assert check(limited) == []
    stripped = {k: v for k, v in limited.headers.items() if k.lower() not in ("retry-after", "request-id")}
    body = {**json.loads(limited.body), "request_id": "req_other"}
    body["error"]["type"] = "api_error"
    found = {(f.field, f.rule) for f in check(dataclasses.replace(limited, headers=stripped, body=json.dumps(body)))}
    assert found == {
        ("header request-id", "format"),
        ("header retry-after", "present"),
        ("error.type", "status"),
        ("request_id", "header"),
    }
    ids = {limited.headers["request-id"]}
    assert [(f.field, f.rule) for f in check(limited, ids)] == [("header request-id", "unique")]


def test_the_plugin_counts_what_it_validated(anthropic_emulator: StartEmulator, tmp_path: Path) -> None:
    emulator = anthropic_emulator([])
    (exchange,) = _exchanges(emulator.url, ("GET", "/v1/models", None))
    page = json.loads(exchange.body)
    del page["data"][0]["type"]
    collector = Collector(tmp_path / "traffic.jsonl")
    findings = collector.validate([exchange, _with_body(exchange, page)])
    subject = "GET /v1/models 200"
    assert [(f.subject, f.field, f.rule) for f in findings] == [
        (f"{subject} SyncPage[ModelInfo]", "data.0.type", "missing"),
        (subject, "header request-id", "unique"),  # the same response twice is two responses with one id
    ]
    assert (collector.tally.responses, collector.tally.mismatched) == (2, 1)


CHILD = """
import sys, httpx
from atomesh.devstack.anthropic import AnthropicEmulator
with AnthropicEmulator([]) as emulator:
    httpx.get(emulator.url + "/v1/models/emulator-small", headers={"x-api-key": "k"})
"""


def test_an_emulator_in_another_process_logs_its_traffic(tmp_path: Path) -> None:
    """What `atomesh dev` serves when a test starts it: logged to the file the plugin reads."""
    log = tmp_path / "traffic.jsonl"
    env = {**os.environ, traffic.LOG_ENV: str(log)}
    subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, timeout=60)
    (exchange,), offset = traffic.read_log(str(log), 0)
    assert (exchange.method, exchange.path, exchange.status) == ("GET", "/v1/models/emulator-small", 200)
    assert check(exchange) == []
    assert traffic.read_log(str(log), offset) == ([], offset)


BROKEN = """
import httpx
from atomesh.devstack.anthropic import AnthropicEmulator, catalogue

def test_lifecycle_dropped(monkeypatch):
    info = catalogue.Model.info
    monkeypatch.setattr(catalogue.Model, "info", lambda self: {k: v for k, v in info(self).items() if k != "lifecycle"})
    with AnthropicEmulator([]) as emulator:
        reply = httpx.get(emulator.url + "/v1/models/emulator-small", headers={"x-api-key": "k"})
    assert reply.status_code == 200
"""


def test_a_deliberately_broken_response_fails_the_test(tmp_path: Path) -> None:
    """The plugin as pytest runs it: the test's own assertions pass, the contract fails it."""
    (tmp_path / "test_broken.py").write_text(BROKEN)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0"]
    command += ["-p", "tests.contract.anthropic_plugin", "--rootdir", str(tmp_path), "-c", os.devnull]
    run = subprocess.run(
        [*command, str(tmp_path / "test_broken.py")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed, 1 error" in run.stdout, run.stdout
    assert "GET /v1/models/emulator-small 200 ModelInfo: at lifecycle: missing: Field required" in run.stdout


def test_the_sdk_reads_what_the_contract_holds(anthropic_emulator: StartEmulator) -> None:
    """The same responses through the SDK: request ids and the model catalogue as it types them."""
    emulator = anthropic_emulator([])
    sdk = anthropic.Anthropic(base_url=emulator.url, api_key="sk-ant-contract", max_retries=0)
    model = sdk.models.retrieve("claude-opus-4-1")
    assert (model.lifecycle, model.max_tokens, model.type) == ("active", 32_000, "model")
    assert model._request_id is not None
    assert model._request_id.startswith("req_")
