"""A paged LIST (`limit` and `continue`) against the Kubernetes API emulator, as etcd3's store serves it:
every page shows the objects as they were at the first page's resourceVersion, and a continue whose
revision the history no longer reaches answers 410 Expired with a token that continues inconsistently."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.kube import RunningKubeAPI, write_kubeconfig

from atomesh.devstack.kube import KubeAPIServer

pytestmark = pytest.mark.integration
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[RunningKubeAPI]:
    with KubeAPIServer(history_limit=20) as server:
        yield RunningKubeAPI(server, write_kubeconfig(server.url, tmp_path / "kubeconfig"), tmp_path / "cache")


def configmap(name: str, value: str = "1") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}}


def page(api: RunningKubeAPI, limit: int, token: str = "") -> dict[str, Any]:
    query = f"?limit={limit}" + (f"&continue={token}" if token else "")
    answer: dict[str, Any] = api.request("GET", CONFIGMAPS + query)
    return answer


def test_every_page_shows_the_first_pages_resource_version(api: RunningKubeAPI) -> None:
    for name in ("b", "c", "d", "e"):
        api.request("POST", CONFIGMAPS, configmap(name))
    first = page(api, 2)
    assert [item["metadata"]["name"] for item in first["items"]] == ["b", "c"]
    assert first["metadata"]["remainingItemCount"] == 2
    api.request("POST", CONFIGMAPS, configmap("a"))  # sorts before the pages already read
    api.request("POST", CONFIGMAPS, configmap("f"))  # sorts after them: created after the snapshot
    api.request("PUT", CONFIGMAPS + "/d", {**api.request("GET", CONFIGMAPS + "/d"), "data": {"v": "2"}})
    api.request("DELETE", CONFIGMAPS + "/e")
    rest = page(api, 10, first["metadata"]["continue"])
    assert [(item["metadata"]["name"], item["data"]["v"]) for item in rest["items"]] == [("d", "1"), ("e", "1")]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert "continue" not in rest["metadata"]
    fresh = page(api, 10)
    assert [item["metadata"]["name"] for item in fresh["items"]] == ["a", "b", "c", "d", "f"]


def test_a_continue_older_than_the_history_is_expired(api: RunningKubeAPI) -> None:
    for name in ("a", "b", "c"):
        api.request("POST", CONFIGMAPS, configmap(name))
    first = page(api, 1)
    for index in range(25):  # more writes than the server remembers
        api.request("POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": f"s{index}"}})
    with pytest.raises(urllib.error.HTTPError) as raised:
        page(api, 1, first["metadata"]["continue"])
    assert raised.value.code == 410
    status = json.loads(raised.value.read())
    assert status["reason"] == "Expired"
    assert status["message"].startswith("The provided continue parameter is too old to display a consistent list")
    rest = page(api, 10, status["metadata"]["continue"])  # the inconsistent way on, at the current revision
    assert [item["metadata"]["name"] for item in rest["items"]] == ["b", "c"]
    assert int(rest["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
