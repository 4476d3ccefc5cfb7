"""The review loop end to end: the real operator in a thread, the Kubernetes API emulator, the
local kubelet running the REAL runner steps (`python -m atomesh runner <step>`), the GitHub
emulator (demo/sample-app) and the Anthropic emulator playing a per-test script, all over
loopback HTTP.

One cluster, kubelet and GitHub emulator per module; each test gets its own namespace (with the
forge and model Secrets) and its own model emulator, which its Agents point at
(`harness.baseURL`). Modules that need their own operator (restarts, polling only) start one
per test with `start_operator`, serving only the test's namespace.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from github.PullRequest import PullRequest
from github.Repository import Repository

from atomesh.controller.main import OperatorThread
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.core.config import OperatorConfig
from atomesh.devstack.anthropic import AnthropicEmulator
from atomesh.devstack.kubelet.background import BackgroundKubelet
from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.forge.github import GitHubForge, RetryPolicy
from atomesh.forge.webhook import EVENTS
from atomesh.kube.client import RestKube
from atomesh.kube.resources import AGENT_RUNS
from tests.e2e.operator.conftest import Stack, apply_crds
from tests.fixtures.anthropic import NODE_BIN, StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle, start_github_emulator
from tests.fixtures.kube import RunningKubeAPI

RUNNER_IMAGE = "ghcr.io/atomesh/atomesh:e2e"
MODEL = "claude-sonnet-4-5"
# Planted credentials: tests assert they never show up in a PR body, a run's status or an Event.
MODEL_KEY = "sk-ant-e2e-PLANTED-model-key-5d1c"
WEBHOOK_SECRET = "e2e-webhook-secret-7f3a"
WEBHOOK_EVENTS = list(EVENTS)


@dataclass
class RecordingSleep:
    """The operator's forge sleeps through this: waits are recorded, and capped to keep tests short."""

    cap: float = 2.5
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, self.cap))


@dataclass
class ReviewCluster:
    kube_api: RunningKubeAPI
    github: GitHubEmulatorHandle
    repo: str


@pytest.fixture(scope="module")
def review_cluster(kube_api: RunningKubeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewCluster]:
    """CRDs, a kubelet that runs atomesh images as the real runner, and the GitHub emulator."""
    apply_crds(kube_api)
    github = start_github_emulator(tmp_path_factory.mktemp("github"))
    try:
        repo = github.seed_sample_app()
        # Runner pods see the kubelet's PATH: put the harness CLIs `make harnesses` installs on it.
        host_env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        config = KubeletConfig(
            server=kube_api.url, root_dir=tmp_path_factory.mktemp("kubelet"), retry_interval=0.2, host_env=host_env
        )
        with BackgroundKubelet(config):
            yield ReviewCluster(kube_api, github, repo)
    finally:
        github.close()


def operator_config(github: GitHubEmulatorHandle, poll: float) -> OperatorConfig:
    return OperatorConfig(
        runner_image=RUNNER_IMAGE,
        forge_api_url=github.url,
        forge_git_url=github.git_url,
        model_base_url="http://model.invalid",  # every test Agent names its own model emulator
        review_poll_interval_seconds=poll,
    )


@dataclass
class RunningOperator:
    thread: OperatorThread
    sleep: RecordingSleep
    hook_id: int | None

    @property
    def webhook_url(self) -> str:
        return self.thread.metrics_url + WEBHOOK_PATH


def start_operator(
    cluster: ReviewCluster,
    *,
    namespaces: list[str] | None = None,
    webhooks: bool = True,
    poll: float = 30.0,
) -> RunningOperator:
    """The real operator with the review loop on, acting on the forge as the bot; with `webhooks`, the
    GitHub emulator delivers pull request events to its /webhooks/github, signed with WEBHOOK_SECRET."""
    github = cluster.github
    sleep = RecordingSleep()
    forge = GitHubForge(
        github.url, github.bot_token, sleep=sleep, retry=RetryPolicy(base_delay=0.2, secondary_wait=0.5)
    )
    thread = OperatorThread(
        operator_config(github, poll),
        str(cluster.kube_api.kubeconfig),
        namespaces or [],
        all_namespaces=namespaces is None,
        forge=forge,
        webhook_secret=WEBHOOK_SECRET if webhooks else None,
    ).start()
    hook_id = None
    if webhooks:
        hook_id = github.add_webhook(thread.metrics_url + WEBHOOK_PATH, WEBHOOK_SECRET, WEBHOOK_EVENTS, cluster.repo)
    return RunningOperator(thread, sleep, hook_id)


@pytest.fixture(scope="module")
def review_operator(review_cluster: ReviewCluster) -> Iterator[RunningOperator]:
    """One operator for the module: webhooks on; polling every 30 s only as the fallback."""
    running = start_operator(review_cluster)
    try:
        yield running
    finally:
        running.thread.stop()


# --- the model's script -------------------------------------------------------------------------
def edit_turns(files: dict[str, str], summary: str) -> list[dict[str, Any]]:
    """One agent run of the litellm loop: write `files`, then finish with `summary`."""
    tools = [{"tool": "write_file", "input": {"path": path, "content": text}} for path, text in files.items()]
    return [{"tools": tools}, {"text": summary, "usage": {"input_tokens": 800, "output_tokens": 40}}]


# --- per-test namespace ---------------------------------------------------------------------------
@dataclass
class ReviewStack(Stack):
    """A namespace with the forge and model Secrets, the GitHub emulator, and PyGithub clients."""

    cluster: ReviewCluster
    start_model: Callable[[Any], AnthropicEmulator]
    model: AnthropicEmulator | None = None

    @property
    def github(self) -> GitHubEmulatorHandle:
        return self.cluster.github

    @property
    def repo_name(self) -> str:
        return self.cluster.repo

    def repo(self, token: str | None = None) -> Repository:
        """demo/sample-app through PyGithub, as the reviewer by default."""
        return self.github.client(token or self.github.reviewer_token).get_repo(self.repo_name)

    def script(self, *runs: list[dict[str, Any]]) -> str:
        """Start this test's model emulator playing the runs' turns in order; returns its URL."""
        self.model = self.start_model([turn for run in runs for turn in run])
        return self.model.url

    def agent(
        self,
        name: str,
        artifact: str,
        paths: list[str],
        *,
        review: dict[str, Any] | None = None,
        purpose: str | None = None,
        model_url: str | None = None,
    ) -> dict[str, Any]:
        if model_url is None:
            assert self.model is not None, "call script() first: the Agent points at this test's model emulator"
            model_url = self.model.url
        manifest = {
            "apiVersion": "atomesh.io/v1alpha1",
            "kind": "Agent",
            "metadata": {"name": name},
            "spec": {
                "purpose": purpose or f"Keep the sample app's {artifact} tidy.",
                "instructions": f"Improve the {artifact} as asked.",
                "output": {"artifact": artifact, "paths": paths},
                "workspace": {"repo": self.repo_name, "baseBranch": "main"},
                "harness": {"kind": "litellm", "model": MODEL, "maxTurns": 10, "baseURL": model_url},
                "limits": {"timeout": "3m"},
                "review": review or {},
            },
        }
        self.apply(manifest)
        return manifest

    def start_run(self, name: str, agent: str, **input_: Any) -> None:
        self.apply(
            {
                "apiVersion": "atomesh.io/v1alpha1",
                "kind": "AgentRun",
                "metadata": {"name": name},
                "spec": {"agentRef": {"name": agent}, "input": input_},
            }
        )

    def wait_phase(self, name: str, phases: set[str], timeout: float = 60.0) -> dict[str, Any]:
        """Like Stack.wait_phase, for a run that may not exist yet (a revision the operator creates)."""

        def reached() -> dict[str, Any] | None:
            found = self.kube.get(AGENT_RUNS, self.namespace, name)
            status = (found or {}).get("status") or {}
            return status if status.get("phase") in phases else None

        result: dict[str, Any] = self.wait_for(f"{name} to reach {sorted(phases)}", reached, timeout)
        return result

    def awaiting_review(self, name: str, timeout: float = 90.0) -> dict[str, Any]:
        status = self.wait_phase(name, {"AwaitingReview", "Succeeded", "Failed", "Rejected"}, timeout)
        assert status["phase"] == "AwaitingReview", f"{name} ended {status.get('phase')}: {status.get('message')}"
        return status

    def finished(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait_phase(name, {"Succeeded", "Rejected", "Failed", "Cancelled"}, timeout)

    def pull(self, number: int, token: str | None = None) -> PullRequest:
        return self.repo(token).get_pull(number)

    def runs(self) -> list[dict[str, Any]]:
        return list(self.kube.list(AGENT_RUNS, self.namespace))

    def wait_until(self, what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
        return self.wait_for(what, check, timeout)

    def event_count(self, name: str, reason: str) -> int:
        """How many Events of `reason` concern run `name`, once at least one arrived (kopf posts them
        in the background, so one may land just after the status it reports)."""
        return int(self.wait_for(f"a {reason} Event for {name}", lambda: self.events(name).count(reason)))

    def assert_no_secrets(self, *texts: str) -> None:
        """Neither credential appears in any PR body of the repo, any run's status, any Event, or `texts`."""
        secrets = (self.github.bot_token, MODEL_KEY)
        bodies = [pull.body or "" for pull in self.repo().get_pulls(state="all")]
        statuses = [repr(run.get("status")) for run in self.runs()]
        events = self.kubectl("get", "events", "-o", "yaml")
        for text in (*bodies, *statuses, events, *texts):
            for secret in secrets:
                assert secret not in text, "a credential leaked into a PR body, a run status or an Event"


def make_review_namespace(cluster: ReviewCluster, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    kube_api = cluster.kube_api
    kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for secret, key, value in (
        ("atomesh-forge", "token", cluster.github.bot_token),
        ("atomesh-model", "api-key", MODEL_KEY),
    ):
        kube_api.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": secret, "namespace": name},
                "stringData": {key: value},
            }
        )
    return name


@pytest.fixture
def review_stack(
    review_cluster: ReviewCluster, anthropic_emulator: StartEmulator, request: pytest.FixtureRequest
) -> Iterator[ReviewStack]:
    """A fresh namespace (no operator: combine with `review_operator`, or start one)."""
    prefix = "rv-" + request.node.originalname.removeprefix("test_").replace("_", "-")[:30].strip("-")
    namespace = make_review_namespace(review_cluster, prefix)
    kube = RestKube.from_kubeconfig(str(review_cluster.kube_api.kubeconfig))
    try:
        yield ReviewStack(
            review_cluster.kube_api, kube, namespace, cluster=review_cluster, start_model=anthropic_emulator
        )
    finally:
        kube.close()
