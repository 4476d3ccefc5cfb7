"""The real operator as a component of `atomesh dev`, wired to the emulators around it.

It lives in `commands/` because it composes the controller with devstack pieces, which the
layers themselves must not do. On start it puts the Secrets the runner pod references (forge
token of the bot user, model key) into the namespace, runs `OperatorThread` with forge and model
URLs from the other components, and subscribes the operator's `/webhooks/github` to the GitHub
emulator with a secret generated for this stack (so merges reach the run at once; polling
stays as the fallback).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from atomesh.api.constants import DEFAULT_RUNNER_IMAGE
from atomesh.api.triggers import GITHUB_EVENTS
from atomesh.controller.main import OperatorThread
from atomesh.controller.review import WEBHOOK_PATH
from atomesh.core.config import OperatorConfig
from atomesh.devstack.stack import GitHubComponent, KubeEndpoint
from atomesh.forge.github import GitHubForge
from atomesh.kube.client import RestKube
from atomesh.kube.resources import Resource

SECRETS = Resource("", "v1", "secrets", "Secret")
# The review loop's events and those event triggers know (opening an issue triggers issue-triage).
WEBHOOK_EVENTS = sorted({"pull_request", "pull_request_review", "issue_comment", *GITHUB_EVENTS})
# Webhooks decide at once; the poll is only the fallback, so a few seconds is plenty locally.
REVIEW_POLL_SECONDS = 5.0


class _SignalsHandledByDev(logging.Filter):
    """kopf warns that it ignores OS signals in a thread; here that is the design: `atomesh dev`
    handles Ctrl-C and SIGTERM itself and stops the operator, so the warning would only mislead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "OS signals are ignored" not in record.getMessage()


class _StopIsOnPurpose(logging.Filter):
    """On Ctrl-C kopf warns about objects whose handlers were still waiting (a run retrying while its
    Agent is missing). Stopping is what the user asked for, and kopf keeps each handler's progress in
    the object's annotations, so the next start resumes them: the warning would only be noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unprocessed streams left for")


logging.getLogger("kopf._core.reactor.running").addFilter(_SignalsHandledByDev())
logging.getLogger("kopf._core.reactor.queueing").addFilter(_StopIsOnPurpose())


@dataclass(frozen=True)
class ModelEndpoint:
    """Where runner pods send model requests, and the key they send (a Secret, never printed)."""

    url: Callable[[], str]  # read at start: the model emulator's port is known only then
    api_key: str


def put_secret(kube: RestKube, namespace: str, name: str, key: str, value: str) -> None:
    """Create the Secret, or replace its data (a kept --state holds the last stack's tokens)."""
    data = {key: base64.b64encode(value.encode()).decode()}
    _, created = kube.create(SECRETS, {"metadata": {"name": name, "namespace": namespace}, "data": data})
    if not created:
        kube.patch(SECRETS, namespace, name, {"data": data})


class OperatorComponent:
    name = "operator"

    def __init__(
        self,
        kube: KubeEndpoint,
        github: GitHubComponent,
        model: ModelEndpoint,
        *,
        namespace: str = "default",
        image_pattern: str = "atomesh",
        runner_image: str = DEFAULT_RUNNER_IMAGE,
    ) -> None:
        if re.search(image_pattern, runner_image) is None:
            raise ValueError(f"the runner image {runner_image} does not match the kubelet's --image-pattern")
        self._kube = kube
        self._github = github
        self._model = model
        self.namespace = namespace
        self._runner_image = runner_image
        self._thread: OperatorThread | None = None

    def _config(self) -> OperatorConfig:
        return OperatorConfig(
            runner_image=self._runner_image,
            forge_api_url=self._github.api_url,
            forge_git_url=self._github.url,
            model_base_url=self._model.url(),
            review_poll_interval_seconds=REVIEW_POLL_SECONDS,
            # Runner pods go to the local kubelet's tainted Node, on the emulator and on a joined cluster.
            local_runner=True,
        )

    def _start(self) -> str:
        accounts, emulator = self._github.accounts, self._github.emulator
        if accounts is None or emulator is None:
            raise RuntimeError("the operator starts after the github component")
        config = self._config()
        kube = RestKube.from_kubeconfig(str(self._kube.kubeconfig))
        try:
            put_secret(kube, self.namespace, config.forge_secret_name, config.forge_secret_key, accounts.bot_token)
            put_secret(kube, self.namespace, config.model_secret_name, config.model_secret_key, self._model.api_key)
        finally:
            kube.close()
        webhook_secret = secrets.token_hex(32)
        thread = OperatorThread(
            config,
            # On the emulator the operator is the chart's ServiceAccount, with the chart's RBAC.
            str(self._kube.operator_kubeconfig or self._kube.kubeconfig),
            [self.namespace],
            forge=GitHubForge(self._github.api_url, accounts.bot_token),
            webhook_secret=webhook_secret,
        )
        self._thread = thread  # stopped even if start times out
        thread.start()
        emulator.add_hook(thread.metrics_url + WEBHOOK_PATH, webhook_secret, WEBHOOK_EVENTS)
        return f"{thread.metrics_url}  (/metrics, /healthz, {WEBHOOK_PATH}; namespace {self.namespace})"

    async def start(self) -> str:
        return await asyncio.to_thread(self._start)

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.stop)
