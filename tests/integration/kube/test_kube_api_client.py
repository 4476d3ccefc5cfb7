"""The kubernetes python client against the emulator: CRUD of core and custom objects, optimistic
concurrency, watch resumption without loss or duplicates, and 410 Expired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from tests.fixtures.kube import RunningKubeAPI, write_kubeconfig
from tests.integration.kube.kube_helpers import WIDGETS_CRD, widget

from atomesh.devstack.kube import KubeAPIServer

pytestmark = pytest.mark.integration


def _api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture(scope="module")
def api(kube_api: RunningKubeAPI) -> Iterator[client.ApiClient]:
    kube_api.apply(WIDGETS_CRD)
    with _api_client(kube_api.kubeconfig) as api_client:
        yield api_client


def test_core_crud(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-crud", labels={"app": "x"}), data={"a": "1"})
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid
    assert created.metadata.resource_version
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("default", body)
    assert exists.value.status == 409
    patched = core.patch_namespaced_config_map("cm-crud", "default", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    listed = core.list_namespaced_config_map("default", label_selector="app=x")
    assert [i.metadata.name for i in listed.items] == ["cm-crud"]
    core.delete_namespaced_config_map("cm-crud", "default")
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("cm-crud", "default")
    assert missing.value.status == 404


def test_pod_defaults_and_strategic_merge(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="pod-smp"),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="main", image="busybox:1", env=[client.V1EnvVar(name="A", value="1")])]
        ),
    )
    created = core.create_namespaced_pod("default", pod)
    assert created.status.phase == "Pending"
    assert created.spec.containers[0].termination_message_path == "/dev/termination-log"
    patch = {"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}}
    patched = core.patch_namespaced_pod("pod-smp", "default", patch)  # strategic merge by default
    assert [e.name for e in patched.spec.containers[0].env] == ["A", "B"]
    assert patched.spec.containers[0].image == "busybox:1"


def test_custom_objects_crud_and_status(api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    args = ("example.com", "v1", "default", "widgets")
    created = custom.create_namespaced_custom_object(*args, widget("cr-crud", size=2) | {"status": {"ignored": True}})
    assert "status" not in created, "status is dropped on create when the status subresource is on"
    assert created["spec"] == {"size": 2, "color": "red"}, "the schema default fills spec.color"
    assert created["metadata"]["generation"] == 1
    status = custom.patch_namespaced_custom_object_status(*args, "cr-crud", {"status": {"phase": "Ok"}})
    assert status["status"] == {"phase": "Ok"}
    assert status["metadata"]["generation"] == 1, "a status write never bumps generation"
    spec = custom.patch_namespaced_custom_object(*args, "cr-crud", {"spec": {"size": 3}, "status": {"phase": "No"}})
    assert spec["metadata"]["generation"] == 2
    assert spec["status"] == {"phase": "Ok"}, "the main endpoint ignores status"
    with pytest.raises(ApiException) as invalid:
        custom.patch_namespaced_custom_object(*args, "cr-crud", {"spec": {"size": -1, "color": "green"}})
    assert invalid.value.status == 422
    assert "spec.size" in invalid.value.body
    assert "spec.color" in invalid.value.body
    custom.delete_namespaced_custom_object(*args, "cr-crud")
    assert all(i["metadata"]["name"] != "cr-crud" for i in custom.list_namespaced_custom_object(*args)["items"])


def test_stale_resource_version_is_a_conflict(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    first = core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-rv")))
    first.data = {"x": "1"}
    core.replace_namespaced_config_map("cm-rv", "default", first)
    first.data = {"x": "2"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("cm-rv", "default", first)
    assert stale.value.status == 409
    assert '"reason":"Conflict"' in stale.value.body.replace(" ", "")


def test_watch_resumes_from_a_resource_version_without_loss_or_duplicates(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    names = [f"cm-watch-{n}" for n in range(6)]
    created = [
        core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n, labels={"w": "r"}))
        )
        for n in names[:3]
    ]
    resume_from = created[0].metadata.resource_version
    for name in names[3:]:
        core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"w": "r"}))
        )
    core.delete_namespaced_config_map(names[1], "default")

    seen: list[tuple[str, str, str]] = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map,
        "default",
        label_selector="w=r",
        resource_version=resume_from,
        timeout_seconds=5,
    ):
        seen.append((event["type"], event["object"].metadata.name, event["object"].metadata.resource_version))
        if len(seen) == 6:
            stream.stop()
    expected_names = [*names[1:], names[1]]
    assert [(t, n) for t, n, _ in seen] == [("ADDED", n) for n in expected_names[:-1]] + [("DELETED", names[1])]
    versions = [int(rv) for _, _, rv in seen]
    assert versions == sorted(set(versions)), "each event once, in resourceVersion order"


def test_watch_event_carries_the_written_resource_version(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    start = core.list_namespaced_config_map("default").metadata.resource_version
    written = core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-exact"))
    )
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=start,
        field_selector="metadata.name=cm-exact",
        timeout_seconds=5,
    ):
        assert event["object"].metadata.resource_version == written.metadata.resource_version
        stream.stop()


def test_expired_resource_version_is_410(tmp_path: Path) -> None:
    with KubeAPIServer(history_limit=5) as server:
        kubeconfig = write_kubeconfig(server.url, tmp_path / "kubeconfig")
        with _api_client(kubeconfig) as api_client:
            core = client.CoreV1Api(api_client)
            first = core.create_namespaced_config_map(
                "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="old"))
            )
            for n in range(10):
                core.create_namespaced_config_map(
                    "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"c{n}"))
                )
            stream = watch.Watch()
            with pytest.raises(ApiException) as expired:
                for _ in stream.stream(
                    core.list_namespaced_config_map,
                    "default",
                    resource_version=first.metadata.resource_version,
                    timeout_seconds=5,
                ):
                    pass
            assert expired.value.status == 410


def _raw(
    api: client.ApiClient, method: str, path: str, body: Any = None, content_type: str = "application/json"
) -> Any:
    return api.call_api(
        path,
        method,
        header_params={"Content-Type": content_type, "Accept": "application/json"},
        body=body,
        response_type="object",
        _return_http_data_only=True,
    )


def test_json_patch_test_op_failure_is_422(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-jp")))
    ops = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "add", "path": "/metadata/finalizers", "value": ["a/b"]},
    ]
    with pytest.raises(ApiException) as failed:
        core.patch_namespaced_config_map("cm-jp", "default", ops)
    assert failed.value.status == 422
    current = core.read_namespaced_config_map("cm-jp", "default")
    ops[0]["value"] = current.metadata.resource_version
    ops.append({"op": "add", "path": "/metadata/annotations", "value": {"x~y/z": "1"}})
    ops.append({"op": "replace", "path": "/metadata/annotations/x~0y~1z", "value": "2"})
    patched = core.patch_namespaced_config_map("cm-jp", "default", ops)
    assert patched.metadata.finalizers == ["a/b"]
    assert patched.metadata.annotations == {"x~y/z": "2"}
