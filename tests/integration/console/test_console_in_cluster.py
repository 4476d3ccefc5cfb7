"""The console as the chart runs it in the cluster: `atomesh console --read-only --address 0.0.0.0` under
its own ServiceAccount's token, with the RBAC the chart renders for it (`console.enabled`), on an API server
with authentication and RBAC. It serves every view without a permission error, shows no action, and answers
403 to a posted one before it reaches the API server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import helm_python as helm
import pytest
import yaml
from tests.fixtures.kube import REPO, SecuredKubeAPI, secured_kube_api
from tests.integration.console.seed import ensure_namespace, seed
from tests.unit.core.supervision_builders import scenario

from atomesh.console.forms import READ_ONLY_REFUSAL

pytestmark = pytest.mark.integration

RELEASE, NAMESPACE, CONSOLE = "atomesh", "atomesh-system", "atomesh-console"
RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
CONSOLE_USER = f"system:serviceaccount:{NAMESPACE}:{CONSOLE}"


def chart_console_rbac() -> list[dict[str, Any]]:
    """The console's ServiceAccount and RBAC as the chart renders them with `console.enabled`."""
    with helm.Chart.load(REPO / "charts" / "atomesh") as chart:
        manifests = chart.render({"console": {"enabled": True}}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        doc
        for doc in yaml.safe_load_all(manifests[f"{RELEASE}/templates/console.yaml"])
        if doc and doc["kind"] in RBAC_KINDS
    ]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKubeAPI]:
    with secured_kube_api(tmp_path_factory.mktemp("in-cluster")) as api:
        api.apply_crds()
        ensure_namespace(api, NAMESPACE)
        for obj in chart_console_rbac():
            api.apply(obj)
        ensure_namespace(api, "team-a")
        agents, meshes, runs = scenario(datetime.now(UTC))
        seed(api, [*agents, *meshes, *runs])
        yield api


@pytest.fixture(scope="module")
def console_url(cluster: SecuredKubeAPI) -> Iterator[str]:
    """`atomesh console` in its own process, as the pod's container runs it, with the ServiceAccount's token."""
    path = f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{CONSOLE}/token"
    token = cluster.request("POST", path, {"spec": {"expirationSeconds": 3600}})["status"]["token"]
    kubeconfig = cluster.token_kubeconfig("console", token)
    command = [sys.executable, "-m", "atomesh", "console", "--kubeconfig", str(kubeconfig)]
    command += ["--read-only", "--address", "0.0.0.0", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://0\.0\.0\.0:(\d+) \(read-only, ", line)
        assert found, f"atomesh console did not start: {line}{process.stdout.read() if process.poll() else ''}"
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serves_every_view_without_a_permission_error(cluster: SecuredKubeAPI, console_url: str) -> None:
    assert get(f"{console_url}/healthz") == (200, "ok")
    status, queue = get(f"{console_url}/queue")
    assert status == 200
    assert 'data-run="team-a/fixer-3"' in queue
    assert 'data-run="team-a/docs-1"' in queue
    assert 'id="read-only"' in queue
    for path in ("/attention", "/fleet", "/meshes", "/runs/team-a/fixer-3", "/agents/team-a/fixer",
                 "/meshes/team-a/release"):  # fmt: skip
        status, page = get(console_url + path)
        assert status == 200, path
        assert 'method="post"' not in page, f"{path} shows an action on a read-only console"
    status, stats = get(f"{console_url}/stats")
    assert '"errors": []' in stats.replace('"errors":[]', '"errors": []'), stats
    denied = [message for user, message in cluster.access.denials if user == CONSOLE_USER]
    assert not denied, f"the chart's console RBAC denied the console: {denied}"


def test_a_posted_action_is_refused_before_it_reaches_the_api_server(cluster: SecuredKubeAPI, console_url: str) -> None:
    form = urllib.parse.urlencode({"run": "team-a/fixer-3", "token": "any", "back": "/queue"}).encode()
    request = urllib.request.Request(f"{console_url}/actions/cancel", data=form, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert refused.value.read().decode() == READ_ONLY_REFUSAL
    run = cluster.request("GET", "/apis/atomesh.io/v1alpha1/namespaces/team-a/agentruns/fixer-3")
    assert not run["spec"].get("cancel")
