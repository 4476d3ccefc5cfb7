"""The session sweep against the GitHub and Kubernetes API emulators: the sessions of runs deleted while the
operator was down are deleted from the workspace repository, those of live runs (in any namespace) stay; an
operator limited to some namespaces does not sweep."""

from __future__ import annotations

from typing import Any

import kopf
import pytest
from tests.fixtures.github import GitHubEmulatorHandle
from tests.fixtures.kube import RunningKubeAPI

from atomesh.controller import session
from atomesh.controller.context import OperatorContext
from atomesh.controller.reconciler import Workers
from atomesh.controller.workqueue import WorkQueue
from atomesh.core.config import OperatorConfig
from atomesh.core.requeue import DEFAULT_RETRY
from atomesh.forge.github import GitHubForge
from atomesh.kube.client import RestKube
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENTS

pytestmark = pytest.mark.integration
REPO = "demo/sample-app"
PREFIX = "refs/atomesh/sessions/"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(name: str, namespace: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": {"agentRef": {"name": "guide"}}}


def agent(namespace: str) -> dict[str, Any]:
    spec = {
        "purpose": "Guide.",
        "instructions": "Write the guide.",
        "output": {"artifact": "doc", "paths": ["docs/**"]},
        "workspace": {"repo": REPO},
        "harness": {"model": "claude-sonnet-4-5"},
    }
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": "guide", "namespace": namespace},
        "spec": spec,
    }


def test_sessions_of_runs_that_no_longer_exist_are_swept(
    github_emulator: GitHubEmulatorHandle, kube_api: RunningKubeAPI
) -> None:
    """The runs are read from the Kubernetes API emulator (every namespace), the refs from the GitHub one."""
    github_emulator.seed_sample_app()
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)
    sha = repo.get_branch("main").commit.sha
    for name in ("guide-1", "guide-2", "guide-2-r1", "docs-7"):
        repo.create_git_ref(PREFIX + name, sha)
    kube_api.apply_crds()
    for namespace in ("team", "other-team"):
        kube_api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    kube_api.apply(agent("team"))
    kube_api.apply({"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", **run("guide-1", "team")})
    kube_api.apply({"apiVersion": "atomesh.io/v1alpha1", "kind": "AgentRun", **run("docs-7", "other-team")})
    kube = RestKube.from_kubeconfig(str(kube_api.kubeconfig))
    try:
        ctx = OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=kube)
        forge = GitHubForge(github_emulator.url, github_emulator.bot_token)
        deleted = session.sweep_sessions(ctx, forge)  # type: ignore[arg-type]  # GitHubForge is a ReviewForge
        assert deleted == [f"{REPO}:{PREFIX}guide-2", f"{REPO}:{PREFIX}guide-2-r1"]
        assert forge.refs_under(REPO, PREFIX) == [PREFIX + "docs-7", PREFIX + "guide-1"]  # alive in any namespace
        assert forge.branch_head(REPO, "main") == sha
        assert session.sweep_sessions(ctx, forge) == []  # type: ignore[arg-type]
    finally:
        kube.close()


def test_the_sweep_runs_at_start_and_again_later_only_when_every_namespace_is_served(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    forge = GitHubForge(github_emulator.url, github_emulator.bot_token)
    ctx = OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=FakeKube())
    session.register(kopf.OperatorRegistry(), ctx, forge, namespaces=("team",))  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        ctx.workers.enqueue(session.SWEEP, "", "sessions")
    github_emulator.seed_sample_app()
    repo = github_emulator.client(github_emulator.bot_token).get_repo(REPO)
    repo.create_git_ref(PREFIX + "gone-1", repo.get_branch("main").commit.sha)
    kube = FakeKube()
    kube.create(AGENTS, {"metadata": {"name": "guide", "namespace": "team"}, "spec": {"workspace": {"repo": REPO}}})
    ctx = OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=kube)
    clock = Clock()
    ctx.workers = Workers(ctx.metrics, WorkQueue(DEFAULT_RETRY, clock))
    registry = kopf.OperatorRegistry()
    session.register(registry, ctx, forge)  # type: ignore[arg-type]
    assert any(handler.id.endswith("start_sweeping") for handler in registry._activities.get_all_handlers())
    ctx.workers.enqueue(session.SWEEP, "", "sessions")  # what the startup handler does
    assert ctx.workers.process_next(0)
    assert forge.refs_under(REPO, PREFIX) == []
    repo.create_git_ref(PREFIX + "gone-2", repo.get_branch("main").commit.sha)
    assert ctx.workers.queue.get(0) is None  # the next sweep waits for its interval
    clock.now += session.SWEEP_INTERVAL
    assert ctx.workers.process_next(0)
    assert forge.refs_under(REPO, PREFIX) == []
