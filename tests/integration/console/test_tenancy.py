"""What a person whose RBAC allows one namespace sees with `atomesh status` and the console's cache, on an
API server with authentication and RBAC where two teams hold the same objects: only their namespace, found
from the kubeconfig context or by access reviews (see `atomesh.console.scopes`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.integration.console.tenancy import TEAM_A, Tenancy, two_teams

from atomesh.cli import main
from atomesh.console.cache import ClusterCache
from atomesh.kube.watch import KubeReader

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tenancy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenancy]:
    with two_teams(tmp_path_factory.mktemp("tenancy")) as tenancy:
        yield tenancy


def namespaces_in(document: dict[str, Any]) -> set[str]:
    return {item["namespace"] for section in ("reviewQueue", "attention", "fleet") for item in document[section]}


@pytest.mark.parametrize("user", ["victor", "nora"])
def test_status_shows_only_the_namespace_the_user_may_read(
    tenancy: Tenancy, user: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--kubeconfig", str(tenancy.kubeconfig(user)), "-o", "json"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert namespaces_in(document) == {TEAM_A}
    assert [item["run"] for item in document["reviewQueue"]] == ["fixer-3", "docs-1"]
    assert "team-b" not in captured.out + captured.err
    # victor's context names team-a; nora may list Namespaces, and access reviews single out team-a.
    expected = "reading namespace team-a" if user == "victor" else "may list and watch them: team-a"
    assert expected in captured.err


def test_status_of_a_namespace_the_user_may_not_read_is_the_api_servers_refusal(
    tenancy: Tenancy, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--kubeconfig", str(tenancy.kubeconfig("victor")), "-n", "team-b"]) == 2
    err = capsys.readouterr().err
    assert 'User "victor" cannot list resource "agents" in API group "atomesh.io" in the namespace "team-b"' in err
    assert "Traceback" not in err


def test_the_consoles_cache_watches_only_the_readable_namespace(tenancy: Tenancy) -> None:
    reader = KubeReader.from_kubeconfig(str(tenancy.kubeconfig("nora")))
    cache = ClusterCache(reader)
    cache.start()
    try:
        assert cache.wait_synced(30)
        agents, meshes, runs, _ = cache.snapshot()
        assert {run.namespace for run in runs} == {TEAM_A}
        assert len(runs) == 7
        assert {agent.metadata.namespace for agent in agents} == {TEAM_A}
        assert {mesh.metadata.namespace for mesh in meshes} == {TEAM_A}
        assert cache.get("AgentRun", "team-b", "fixer-3") is None
        # Events: atomesh-view grants none, so no informer keeps failing on them.
        assert not any("events" in error and "retry" in error for error in cache.stats.errors)
    finally:
        cache.stop()
        reader.close()
