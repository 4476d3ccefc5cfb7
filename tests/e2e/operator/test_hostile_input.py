"""Hostile manifests against the real operator: every object gets a status naming the field, nothing
is fetched from a URL a manifest names (a listener counts what reaches it), and the operator goes on
serving a canary run."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.operator.conftest import KUBECTL, Stack, agent_manifest, make_namespace, run_manifest
from tests.fixtures.kube import RunningKubeAPI

pytestmark = pytest.mark.e2e


class _Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def _count(self) -> None:
        type(self).hits.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = do_HEAD = _count

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def listener() -> Iterator[str]:
    """A server manifests point at; the operator must never reach it."""
    _Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def agent_condition(stack: Stack, name: str) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        out = json.loads(stack.kubectl("get", "agent", name, "-o", "json"))
        conditions = {c["type"]: c for c in (out.get("status") or {}).get("conditions") or []}
        return conditions.get("Ready")

    found: dict[str, Any] = stack.wait_for(f"Agent {name} to have a Ready condition", ready)
    return found


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def test_hostile_manifests_get_answers_and_nothing_is_fetched(stack: Stack, listener: str) -> None:
    sources = {
        "from-listener": f"{listener}/acme/agents.git",
        "upload-pack": "--upload-pack=touch /tmp/atomesh-pwned",
        "ext-transport": "ext::sh -c touch% /tmp/atomesh-pwned",
        "metadata-ip": "http://169.254.169.254/latest/meta-data/",
    }
    for name, repo in sources.items():
        manifest = agent_manifest(name, source={"repo": repo, "ref": "main"})
        del manifest["spec"]["instructions"]
        stack.apply(manifest)
    schema = {"type": "object", "properties": {"mode": {"$ref": f"{listener}/mode.json"}}}
    stack.apply(agent_manifest("remote-ref", input={"schema": schema}))
    for name in sources:
        ready = agent_condition(stack, name)
        assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
        assert "spec.source.repo" in ready["message"]
    ready = agent_condition(stack, "remote-ref")
    assert "spec.input.schema.properties.mode.$ref" in ready["message"]

    stack.apply(agent_manifest())
    stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")
    deep = run_manifest("deep-input", mode="publish")
    deep["spec"]["input"]["nested"] = nested(900)
    stack.kubectl("apply", "-f", "-", input=json.dumps(deep))
    status = stack.wait_phase("deep-input", {"Failed", "AwaitingReview"})
    assert (status["phase"], status["reason"]) == ("Failed", "InvalidInput")
    assert "spec.input" in status["message"]
    assert "nests deeper than" in status["message"]
    stack.apply(run_manifest("waits-for-invalid-agent", agent="remote-ref", mode="publish"))
    waiting = stack.wait_for(
        "the run of an invalid Agent to have a status", lambda: stack.run("waits-for-invalid-agent").get("status")
    )
    assert waiting["reason"] == "AgentNotReady"

    stack.apply(run_manifest("canary", mode="publish"))
    assert stack.wait_phase("canary", {"AwaitingReview", "Failed"})["phase"] == "AwaitingReview"
    assert _Counter.hits == [], "the operator fetched a URL a manifest named"


CORPUS = Path(__file__).resolve().parents[2] / "hostile_corpus"


def corpus_documents(path: Path) -> list[dict[str, Any]]:
    body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    if body.lstrip().startswith("{"):
        return [json.loads(part) for part in body.split("\n---\n") if part.strip()]
    return [doc for doc in yaml.safe_load_all(body) if doc]


def answered(stack: Stack, namespace: str, doc: dict[str, Any]) -> bool:
    kind, name = doc["kind"].lower(), doc["metadata"]["name"]
    out = stack.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
    if not out:
        return False
    status = json.loads(out).get("status") or {}
    return bool(status.get("phase") or status.get("conditions"))


@pytest.mark.slow
def test_every_corpus_object_is_refused_or_answered(
    stack: Stack, cluster: RunningKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """The whole corpus against the dev stack: the API server refuses an object naming the field, or
    the operator gives it a status, without a traceback in its log; then the operator still runs a canary."""
    caplog.set_level(logging.INFO)
    refused = answered_count = 0
    for index, path in enumerate(sorted(CORPUS.glob("*.yaml"))):
        namespace = f"hostile-{index:03d}"
        make_namespace(cluster, namespace)
        docs = corpus_documents(path)
        for doc in docs:
            doc["metadata"]["namespace"] = namespace
            result = subprocess.run(
                [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "apply", "-f", "-"],
                input=json.dumps(doc),
                capture_output=True,
                text=True,
                timeout=60,
            )
            if result.returncode != 0:
                assert "spec." in result.stderr or "metadata." in result.stderr, (path.name, result.stderr)
                refused += 1
                doc["refused"] = True
        for doc in docs:
            if not doc.get("refused"):
                stack.wait_for(
                    f"{path.name}: {doc['kind']} {doc['metadata']['name']} answered",
                    lambda doc=doc, namespace=namespace: answered(stack, namespace, doc),
                    timeout=30,
                )
                answered_count += 1
    assert refused + answered_count >= 60
    stack.apply(agent_manifest())
    stack.kubectl("wait", "--for=condition=Ready", "agent/tidy", "--timeout=30s")
    stack.apply(run_manifest("canary-after-corpus", mode="publish"))
    assert stack.wait_phase("canary-after-corpus", {"AwaitingReview", "Failed"})["phase"] == "AwaitingReview"
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert tracebacks == [], tracebacks[:3]
