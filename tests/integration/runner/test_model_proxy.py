"""The model proxy as a process (`atomesh model-proxy`), spoken to by the real anthropic SDK and by the
agent step: it forwards the Messages API with the real key, enforces the run's grant, and keeps the key
out of reach of the agent step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import pytest
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file, seed_bare_repo

from atomesh.api import constants as k
from atomesh.api.runfile import PublishSummary
from atomesh.devstack.kubelet.isolation import user_namespace_prefix
from atomesh.runner.modelproxy import wait_for_proxy

pytestmark = [pytest.mark.integration]

MODEL_KEY = "sk-ant-PLANTED-proxy-key-8d2e41c7"
MODEL = "claude-sonnet-4-5"


@dataclass
class RunningProxy:
    process: subprocess.Popen[bytes]
    url: str
    token: str
    directory: Path
    log: Path


StartProxy = Callable[..., RunningProxy]


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[StartProxy]:
    """`start(upstream, run_file_path=None, **spec)` → a proxy process holding MODEL_KEY; stopped at teardown."""
    started: list[RunningProxy] = []

    def start(upstream: str, run_file_path: Path | None = None, **spec: Any) -> RunningProxy:
        root = tmp_path / f"proxy-{len(started)}"
        root.mkdir()
        if run_file_path is None:
            run_file_path = root / k.RUN_FILE_NAME
            run_file_path.write_text(json.dumps(run_file(spec=agent_spec(**spec))))
        env = {key: value for key, value in os.environ.items() if not key.startswith("ATOMESH_")}
        env.update(
            {
                k.ENV_MODEL_API_KEY: MODEL_KEY,
                k.ENV_MODEL_UPSTREAM_URL: upstream,
                k.ENV_MODEL_PROXY_DIR: str(root / "model"),
                k.ENV_RUN_FILE: str(run_file_path),
            }
        )
        log = root / "proxy.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "atomesh", "model-proxy"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        endpoint = wait_for_proxy(root / "model", timeout=30)
        proxy = RunningProxy(process, endpoint.url, endpoint.token, root / "model", log)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.process.terminate()
        proxy.process.wait(timeout=10)
        assert MODEL_KEY not in proxy.log.read_text(), "the proxy logged its key"


def sdk(proxy: RunningProxy, token: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key=token or proxy.token, max_retries=0)


def ask(client: anthropic.Anthropic, model: str = MODEL) -> str:
    message = client.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": "Say hello."}])
    return "".join(block.text for block in message.content if block.type == "text")


def test_the_sdk_gets_answers_and_streams_through_the_proxy(
    anthropic_emulator: StartEmulator, start_proxy: StartProxy
) -> None:
    model = anthropic_emulator(
        {
            "turns": [
                {"match": {"contains": "Say hello"}, "text": "Hello from the model."},
                {"match": {"contains": "Again"}, "text": "Streamed hello."},
            ]
        }
    )
    proxy = start_proxy(model.url)
    client = sdk(proxy)
    assert ask(client) == "Hello from the model."
    with client.messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Again."}]) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_message()
    assert "".join(b.text for b in final.content if b.type == "text") == "Streamed hello."
    assert events[0] == "message_start"
    assert "content_block_delta" in events
    assert final.usage.output_tokens > 0
    assert [r.stream for r in model.requests] == [False, True]
    assert all(proxy.token not in json.dumps(r.body) + str(r.headers) for r in model.requests)


def test_the_proxy_refuses_what_the_run_may_not_do(anthropic_emulator: StartEmulator, start_proxy: StartProxy) -> None:
    model = anthropic_emulator({"turns": [], "default": {"text": "one"}})
    proxy = start_proxy(model.url, limits={"timeout": "2m", "maxTokens": 1})
    with pytest.raises(anthropic.AuthenticationError, match="run's model token"):
        ask(sdk(proxy, token=MODEL_KEY))  # the real key itself is no token for the proxy
    with pytest.raises(anthropic.PermissionDeniedError, match=r"spec\.harness\.model"):
        ask(sdk(proxy), model="claude-opus-4-1")
    with pytest.raises(anthropic.NotFoundError, match="POST /v1/messages"):
        sdk(proxy).models.list()
    assert ask(sdk(proxy)) == "one"  # within the limit when sent; the answer crosses it
    assert not (proxy.directory / k.MODEL_PROXY_PAUSED_FILE).exists()
    # At the limit the run pauses: refused as an account out of credit, which the SDK does not retry.
    client = anthropic.Anthropic(base_url=proxy.url, api_key=proxy.token, max_retries=3)
    with pytest.raises(anthropic.APIStatusError, match=r"its limit of 1 \(limits\.maxTokens") as refused:
        ask(client)
    assert (refused.value.status_code, refused.value.response.headers["x-should-retry"]) == (402, "false")
    assert refused.value.body["error"]["type"] == "billing_error"  # type: ignore[index]
    notice = json.loads((proxy.directory / k.MODEL_PROXY_PAUSED_FILE).read_text())
    assert notice["reason"] == "TokensExceeded"
    assert len(model.requests) == 1, "refused requests never reach the model"


class _Recorder(BaseHTTPRequestHandler):
    """Records what arrives upstream and answers one fixed Messages response."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        type(self).seen.append({key.lower(): value for key, value in self.headers.items()})
        body = json.dumps(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [{"type": "text", "text": "ok"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 3, "output_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


def test_the_key_is_added_on_the_way_out_and_the_token_removed(start_proxy: StartProxy) -> None:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proxy = start_proxy(f"http://127.0.0.1:{server.server_address[1]}")
        assert ask(sdk(proxy)) == "ok"
    finally:
        server.shutdown()
        server.server_close()
    [headers] = _Recorder.seen
    assert headers["x-api-key"] == MODEL_KEY
    assert "authorization" not in headers
    assert proxy.token not in json.dumps(headers)
    assert headers["anthropic-version"]  # the SDK's own headers pass through


def container_prefix() -> tuple[str, ...]:
    """How the local kubelet starts a container's process; skips where it cannot isolate it."""
    if not sys.platform.startswith("linux"):
        pytest.skip("/proc and user namespaces are Linux's")
    prefix = user_namespace_prefix()
    if not prefix and os.geteuid() == 0:
        pytest.skip("running as root without user namespaces: nothing here can keep a process out")
    return prefix


def test_a_container_process_cannot_read_the_proxy_environment(
    anthropic_emulator: StartEmulator, start_proxy: StartProxy
) -> None:
    prefix = container_prefix()
    proxy = start_proxy(anthropic_emulator({"turns": [], "default": {"text": "x"}}).url)
    environ = Path(f"/proc/{proxy.process.pid}/environ")
    read = subprocess.run([*prefix, "cat", str(environ)], capture_output=True, text=True, check=False)
    assert read.returncode != 0
    assert "Permission denied" in read.stderr
    assert MODEL_KEY not in read.stdout
    assert MODEL_KEY not in " ".join(str(arg) for arg in proxy.process.args)


# Every way a process of the agent step can look for the key, written to a file of the artifact.
HUNT = (
    "{ echo '== env'; env; echo '== self'; tr '\\0' '\\n' < /proc/self/environ; "
    "echo '== processes'; for p in /proc/[0-9]*; do "
    "tr '\\0' '\\n' < $p/environ 2>/dev/null || echo \"denied $p\"; tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done; "
    "echo '== files'; cat \"$ATOMESH_MODEL_PROXY_DIR\"/* 2>&1; "
    'grep -rIl \'sk-ant-\' "$HOME" "$TMPDIR" "$ATOMESH_STATE_DIR" "$ATOMESH_MODEL_PROXY_DIR" 2>&1; '
    "echo '== end'; } > docs/loot.txt 2>&1"
)


def test_a_scripted_agent_finds_no_key_yet_gets_model_answers(
    tmp_path: Path,
    github_emulator: GitHubEmulatorHandle,
    anthropic_emulator: StartEmulator,
    start_proxy: StartProxy,
) -> None:
    slug = github_emulator.seed_sample_app()
    model = anthropic_emulator(
        [{"tools": [{"tool": "run", "input": {"command": HUNT}}]}, {"text": "Looked everywhere."}]
    )
    pod = RunnerPod(
        tmp_path / "pod",
        forge_api_url=github_emulator.url,
        forge_git_url=github_emulator.git_url,
        forge_token=github_emulator.bot_token,
    )
    spec = agent_spec(workspace={"repo": slug, "baseBranch": "main"}, output={"artifact": "doc", "paths": ["docs/**"]})
    pod.write_run_file(run_file(spec=spec))
    proxy = start_proxy(model.url, run_file_path=pod.root / "etc" / k.RUN_FILE_NAME)
    assert pod.run("checkout").returncode == 0

    prefix = container_prefix()
    agent = subprocess.run(  # as the local kubelet starts it: a process in a user namespace of its own
        [*prefix, sys.executable, "-m", "atomesh", "runner", "agent"],
        env=pod.env("agent", {k.ENV_MODEL_PROXY_DIR: str(proxy.directory)}),
        cwd=pod.root,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert agent.returncode == 0, agent.stderr
    loot = (pod.workspace / "docs" / "loot.txt").read_text()
    assert "== end" in loot, loot[-2000:]  # the hunt ran to its end
    assert f"denied /proc/{proxy.process.pid}" in loot  # it tried the proxy's environment and was refused
    assert proxy.token in loot  # what it holds instead: the run's token, useless outside this pod's proxy
    assert MODEL_KEY not in loot
    assert len(model.requests) == 2  # both turns were answered through the proxy
    assert all(r.status == 200 for r in model.requests)

    publish = pod.run("publish")
    assert publish.returncode == 0, publish.stderr
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.artifact is not None
    assert summary.artifact.files == ["docs/loot.txt"]
    for text in (agent.stdout, agent.stderr, publish.stdout, publish.stderr, pod.termination("agent")):
        assert MODEL_KEY not in text


def test_behind_a_litellm_gateway_every_request_carries_the_runs_identity(
    anthropic_emulator: StartEmulator, start_proxy: StartProxy, tmp_path: Path
) -> None:
    """The headers LiteLLM's proxy reads for its spend logs (litellm_pre_call_utils): trace id = run uid,
    spend-logs metadata and tags naming the agent, namespace and mesh; the body is forwarded as written."""
    model = anthropic_emulator({"turns": [], "default": {"text": "ok"}})
    spec = agent_spec(harness={"kind": "claude-code", "model": MODEL, "gateway": "litellm"})
    path = tmp_path / k.RUN_FILE_NAME
    path.write_text(json.dumps(run_file(spec=spec, runUid="5f1c-uid", mesh="release")))
    proxy = start_proxy(model.url, run_file_path=path)
    client = sdk(proxy)
    assert ask(client) == "ok"
    with client.messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Again."}]) as s:
        s.get_final_message()
    assert len(model.requests) == 2
    for request in model.requests:
        headers = {key.lower(): value for key, value in request.headers.items()}
        assert headers["x-litellm-trace-id"] == "5f1c-uid"
        assert json.loads(headers["x-litellm-spend-logs-metadata"]) == {
            "agent": "docs",
            "mesh": "release",
            "namespace": "team-a",
            "run": "docs-1",
        }
        assert headers["x-litellm-tags"] == "atomesh-agent:docs,atomesh-namespace:team-a,atomesh-mesh:release"
        assert "metadata" not in request.body


def test_without_a_gateway_requests_carry_no_gateway_headers(
    anthropic_emulator: StartEmulator, start_proxy: StartProxy
) -> None:
    model = anthropic_emulator({"turns": [], "default": {"text": "ok"}})
    proxy = start_proxy(model.url)
    assert ask(sdk(proxy)) == "ok"
    assert not [key for key in model.requests[0].headers if key.lower().startswith("x-litellm-")]


@pytest.mark.parametrize("harness", ["litellm", "claude-code", "opencode"])
def test_each_harness_stops_at_the_refusal_of_a_reached_limit_and_the_step_pauses(
    tmp_path: Path, anthropic_emulator: StartEmulator, start_proxy: StartProxy, harness: str
) -> None:
    """The answer that crosses the token limit is the last: its tool runs, the harness's next request is
    refused (402 billing_error, not retried), and the agent step pauses instead of failing."""
    origin = tmp_path / "git"
    seed_bare_repo(origin / "demo" / "app.git", {"README.md": "hello\n"})
    model = anthropic_emulator(
        [
            {
                "tools": [{"tool": "write_file", "input": {"path": "docs/first.md", "content": "# First\n"}}],
                "usage": {"input_tokens": 5000, "output_tokens": 10},
            },
            {"text": "Never answered.", "times": 0},
        ]
    )
    pod = RunnerPod(tmp_path / "pod", forge_git_url=f"file://{origin}")
    spec = agent_spec(
        harness={"kind": harness, "model": MODEL, "maxTurns": 10}, limits={"timeout": "2m", "maxTokens": 4000}
    )
    pod.write_run_file(run_file(spec=spec))
    proxy = start_proxy(model.url, run_file_path=pod.root / "etc" / k.RUN_FILE_NAME)
    assert pod.run("checkout").returncode == 0
    agent = pod.run("agent", {k.ENV_MODEL_PROXY_DIR: str(proxy.directory)})
    assert agent.returncode == 0, agent.stderr
    paused = json.loads((pod.state / "paused.json").read_text())
    assert paused["reason"] == "TokensExceeded"
    assert "(limits.maxTokens, budget.perRun.tokens)" in paused["message"]
    assert (pod.workspace / "docs" / "first.md").read_text() == "# First\n"  # the crossing turn's tool ran
    assert [r.status for r in model.requests if r.body.get("tools")] == [200], "a refused request reached the model"
