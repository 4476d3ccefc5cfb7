"""Pruning an Agent's finished runs beyond its historyLimit, on the in-memory Kube and through the watch
cache's indexes as the operator reads them: a mesh execution's runs go together, whichever Agent they
belong to, and only once every one of them has finished."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from atomesh.api import constants as k
from atomesh.controller.agent import RUNS_BY_AGENT, agent_of
from atomesh.controller.agentrun import prune
from atomesh.controller.context import OperatorContext
from atomesh.core.config import OperatorConfig
from atomesh.kube.cache import CachedKube
from atomesh.kube.client import Kube
from atomesh.kube.fake import FakeKube
from atomesh.kube.resources import AGENT_RUNS, AGENTS

NS = "team"


def agent(name: str) -> dict[str, Any]:
    spec = {
        "purpose": "Tidy.",
        "instructions": "Tidy it.",
        "output": {"artifact": "doc", "paths": ["README.md"]},
        "workspace": {"repo": "acme/site"},
        "harness": {"model": "claude-sonnet-4-5"},
        "historyLimit": 1,
    }
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


def run(name: str, agent: str, completed: str, phase: str = "Succeeded", execution: str = "") -> dict[str, Any]:
    labels = {k.LABEL_MESH_EXECUTION: execution} if execution else {}
    return {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "AgentRun",
        "metadata": {"name": name, "namespace": NS, "labels": labels, "creationTimestamp": completed},
        "spec": {"agentRef": {"name": agent}},
        "status": {"phase": phase, "completionTime": completed if phase == "Succeeded" else None},
    }


def fleet() -> FakeKube:
    api = FakeKube()
    for name in ("tidy", "lint"):
        api.create(AGENTS, agent(name))
    for body in (
        run("tidy-new", "tidy", "2026-12-01T10:00:00Z"),
        run("tidy-old", "tidy", "2026-12-01T09:00:00Z"),
        # A finished execution: tidy's run falls beyond the limit, so lint's run goes with it.
        run("tidy-done", "tidy", "2026-12-01T08:00:00Z", execution="e1"),
        run("lint-done", "lint", "2026-12-01T08:30:00Z", execution="e1"),
        # An execution still in flight is kept whole.
        run("tidy-flight", "tidy", "2026-12-01T07:00:00Z", execution="e2"),
        run("lint-flight", "lint", "2026-12-01T07:30:00Z", phase="Running", execution="e2"),
        run("lint-other", "lint", "2026-12-01T06:00:00Z"),
    ):
        api.create(AGENT_RUNS, body)
        api.patch_status(AGENT_RUNS, NS, body["metadata"]["name"], body["status"])  # a create keeps no status
    return api


def cached(api: FakeKube) -> CachedKube:
    cache = CachedKube(
        api,
        (AGENTS, AGENT_RUNS),
        indexed_labels=(k.LABEL_MESH_EXECUTION,),
        packed=(AGENTS,),
        indexers={AGENT_RUNS: {RUNS_BY_AGENT: agent_of}},
    )
    for resource in (AGENTS, AGENT_RUNS):
        for body in api.list(resource, NS):
            cache.observe(resource, copy.deepcopy(body))
    cache.mark_synced()
    return cache


@pytest.mark.parametrize("through_cache", [False, True])
def test_pruning_deletes_beyond_the_limit_and_mesh_executions_whole(through_cache: bool) -> None:
    api = fleet()
    kube: Kube = cached(api) if through_cache else api
    prune(OperatorContext(config=OperatorConfig(runner_image="runner:test"), kube=kube), NS, "tidy")
    left = sorted(body["metadata"]["name"] for body in api.list(AGENT_RUNS, NS))
    assert left == ["lint-flight", "lint-other", "tidy-flight", "tidy-new"]
