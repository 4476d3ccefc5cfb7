"""kubectl's generators send protobuf bodies (`kubectl create namespace|secret|configmap|serviceaccount`);
the emulator decodes them, with both kubectl binaries, and answers JSON (kubectl's Accept header is
`application/vnd.kubernetes.protobuf,application/json`)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from tests.fixtures.kube import REPO, Kubectl, RunningKubeAPI, http_error_status

pytestmark = pytest.mark.integration
RECORDED = REPO / "tests" / "fixtures" / "kube_protobuf"
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _post_protobuf(kube_api: RunningKubeAPI, path: str, body: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": f"{PROTOBUF}; charset=utf-8", "Accept": f"{PROTOBUF},application/json"}
    request = urllib.request.Request(kube_api.url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Type"].startswith("application/json")
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, http_error_status(exc)


def test_create_namespace_and_model_key_secret(kubectl: Kubectl) -> None:
    ns = f"team-a-{kubectl.version[1]}"
    assert kubectl("create", "namespace", ns).stdout.strip() == f"namespace/{ns} created"
    assert kubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase}").stdout == "Active"
    created = kubectl("create", "secret", "generic", "model-key", "--from-literal=api-key=sk-test-123", "-n", ns)
    assert created.stdout.strip() == "secret/model-key created"
    value = kubectl("get", "secret", "model-key", "-n", ns, "-o", "jsonpath={.data.api-key}").stdout
    assert base64.b64decode(value) == b"sk-test-123"
    secret = json.loads(kubectl("get", "secret", "model-key", "-n", ns, "-o", "json").stdout)
    assert secret["type"] == "Opaque"
    assert secret["metadata"]["uid"]
    assert secret["metadata"]["resourceVersion"]
    again = kubectl("create", "secret", "generic", "model-key", "--from-literal=api-key=x", "-n", ns, check=False)
    assert again.returncode != 0
    assert "already exists" in again.stderr


def test_create_secret_with_type_and_docker_registry(kubectl: Kubectl) -> None:
    v = kubectl.version[1]
    kubectl("create", "secret", "generic", f"typed-{v}", "--from-literal=k=v", "--type=example.com/custom")
    typed = json.loads(kubectl("get", "secret", f"typed-{v}", "-o", "json").stdout)
    assert typed["type"] == "example.com/custom"
    assert typed["data"] == {"k": "dg=="}
    kubectl(
        "create",
        "secret",
        "docker-registry",
        f"reg-{v}",
        "--docker-server=r.io",
        "--docker-username=u",
        "--docker-password=p",
    )
    registry = json.loads(kubectl("get", "secret", f"reg-{v}", "-o", "json").stdout)
    assert registry["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(registry["data"][".dockerconfigjson"]))["auths"]
    assert auths["r.io"]["username"] == "u"


def test_create_configmap_from_literal_and_files(kubectl: Kubectl, tmp_path: Path) -> None:
    name = f"prompts-{kubectl.version[1]}"
    (tmp_path / "system.txt").write_text("You are a careful reviewer.\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\xff\xfebinary")
    kubectl(
        "create",
        "configmap",
        name,
        "--from-literal=model=claude",
        f"--from-file={tmp_path / 'system.txt'}",
        f"--from-file=blob={tmp_path / 'blob.bin'}",
    )
    cm = json.loads(kubectl("get", "configmap", name, "-o", "json").stdout)
    assert cm["data"] == {"model": "claude", "system.txt": "You are a careful reviewer.\n"}
    assert base64.b64decode(cm["binaryData"]["blob"]) == b"\x00\xff\xfebinary"
    kubectl("create", "configmap", f"dir-{name}", f"--from-file={tmp_path}")
    from_dir = json.loads(kubectl("get", "configmap", f"dir-{name}", "-o", "json").stdout)
    assert set(from_dir["data"]) == {"system.txt"}
    assert set(from_dir["binaryData"]) == {"blob.bin"}


def test_create_serviceaccount(kubectl: Kubectl) -> None:
    name = f"agent-runner-{kubectl.version[1]}"
    assert kubectl("create", "serviceaccount", name).stdout.strip() == f"serviceaccount/{name} created"
    assert kubectl("get", "serviceaccount", name, "-o", "jsonpath={.metadata.name}").stdout == name


def test_create_secret_dry_run_server_stores_nothing(kubectl: Kubectl) -> None:
    name = f"dry-{kubectl.version[1]}"
    result = kubectl("create", "secret", "generic", name, "--from-literal=k=v", "--dry-run=server", "-o", "json")
    assert json.loads(result.stdout)["data"] == {"k": "dg=="}
    missing = kubectl("get", "secret", name, check=False)
    assert missing.returncode != 0
    assert "NotFound" in missing.stderr


def test_unsupported_kind_is_a_clear_415(kubectl: Kubectl) -> None:
    result = kubectl("create", "deployment", f"web-{kubectl.version[1]}", "--image=nginx", check=False)
    assert result.returncode != 0
    assert "apps/v1 Deployment" in result.stderr
    assert "kubectl apply -f" in result.stderr


def test_recorded_kubectl_bodies_over_http(kube_api: RunningKubeAPI) -> None:
    status, ns = _post_protobuf(kube_api, "/api/v1/namespaces", (RECORDED / "create-namespace-team-a.bin").read_bytes())
    assert (status, ns["kind"], ns["metadata"]["name"]) == (201, "Namespace", "team-a")
    body = (RECORDED / "create-secret-generic-model-key.bin").read_bytes()
    status, secret = _post_protobuf(kube_api, "/api/v1/namespaces/team-a/secrets?fieldValidation=Strict", body)
    assert status == 201
    assert secret["data"] == {"api-key": "c2stYWJj"}

    body = (RECORDED / "create-deployment-d.bin").read_bytes()
    status, error = _post_protobuf(kube_api, "/apis/apps/v1/namespaces/default/deployments", body)
    assert (status, error["kind"], error["reason"]) == (415, "Status", "UnsupportedMediaType")
    assert error["details"]["kind"] == "Deployment"
    assert "kubectl apply -f" in error["message"]

    status, error = _post_protobuf(kube_api, "/api/v1/namespaces", b"k8s\x00\x0a\x05ab")
    assert (status, error["reason"]) == (400, "BadRequest")
