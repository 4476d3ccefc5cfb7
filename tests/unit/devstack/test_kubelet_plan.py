"""The local kubelet's pure planning: images, env, path mapping, volumes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from atomesh.devstack.kubelet.config import KubeletConfig, handles_pod
from atomesh.devstack.kubelet.layout import PodConfigError, PodLayout
from atomesh.devstack.kubelet.plan import Mount, build_container_plan, expand_vars, map_path
from atomesh.devstack.kubelet.volumes import (
    VolumeFile,
    build_volume_files,
    collect_references,
    decode_data,
    field_value,
)

LAYOUT = PodLayout(Path("/host/pod"))


def config(**kwargs: Any) -> KubeletConfig:
    defaults: dict[str, Any] = {
        "server": "http://127.0.0.1:1",
        "root_dir": Path("/host"),
        "host_env": {"PATH": "/usr/bin", "LANG": "C.UTF-8", "GITHUB_TOKEN": "host-secret"},
        "entrypoints": {"atomesh": ["/venv/python", "-m", "atomesh"]},
    }
    return KubeletConfig(**{**defaults, **kwargs})


def pod(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "labels": {"b": "2", "a": "1"}},
        "spec": {"containers": containers, **spec},
    }


def test_handles_only_matching_images_and_unassigned_or_own_pods() -> None:
    cfg = config()
    assert handles_pod(cfg, pod([{"name": "c", "image": "ghcr.io/atomesh/atomesh:1"}]))
    assert not handles_pod(cfg, pod([{"name": "c", "image": "nginx"}]))
    mixed = pod([{"name": "c", "image": "atomesh"}], initContainers=[{"name": "i", "image": "busybox"}])
    assert not handles_pod(cfg, mixed)
    assert not handles_pod(cfg, pod([{"name": "c", "image": "atomesh"}], nodeName="other"))
    assert handles_pod(cfg, pod([{"name": "c", "image": "atomesh"}], nodeName=cfg.node_name))
    assert handles_pod(config(image_pattern="^local/"), pod([{"name": "c", "image": "local/x"}]))


def test_map_path_prefers_exact_and_longest_mounts() -> None:
    mounts = [
        Mount("/data", "/host/data"),
        Mount("/data/state/", "/host/state"),
        Mount("/dev/termination-log", "/host/term", exact=True),
    ]
    assert map_path("/data", mounts) == "/host/data"
    assert map_path("/data/repo/a.txt", mounts) == "/host/data/repo/a.txt"
    assert map_path("/data/state/usage.json", mounts) == "/host/state/usage.json"
    assert map_path("/data/state", mounts) == "/host/state"
    assert map_path("/dev/termination-log", mounts) == "/host/term"
    assert map_path("/dev/termination-log2", mounts) == "/dev/termination-log2"
    assert map_path("/database", mounts) == "/database"
    assert map_path("--out=/data/x", mounts) == "--out=/data/x"


def test_expand_vars_follows_kubernetes_rules() -> None:
    env = {"A": "x", "B": "y"}
    assert expand_vars("$(A)-$(B)", env) == "x-y"
    assert expand_vars("$(MISSING)", env) == "$(MISSING)"
    assert expand_vars("$$(A)", env) == "$(A)"


def test_plan_maps_env_args_workdir_and_termination_path() -> None:
    container = {
        "name": "main",
        "image": "atomesh",
        "args": ["runner", "publish", "/etc/run/run.json"],
        "workingDir": "/data/repo",
        "env": [
            {"name": "RUN_FILE", "value": "/etc/run/run.json"},
            {"name": "TERM_PATH", "value": "/tmp/term"},
            {"name": "COPY", "value": "$(RUN_FILE)"},
        ],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "run", "mountPath": "/etc/run"}],
        "terminationMessagePath": "/tmp/term",
    }
    spec_pod = pod([container], volumes=[{"name": "data", "emptyDir": {}}, {"name": "run", "configMap": {"name": "x"}}])
    plan = build_container_plan(config(), spec_pod, container, init=False, layout=LAYOUT, resources={})
    assert plan.argv == ("/venv/python", "-m", "atomesh", "runner", "publish", "/host/pod/volumes/run/run.json")
    assert plan.cwd == "/host/pod/volumes/data/repo"
    assert plan.env["RUN_FILE"] == "/host/pod/volumes/run/run.json"
    assert plan.env["COPY"] == "/host/pod/volumes/run/run.json"
    assert plan.env["TERM_PATH"] == "/host/pod/termination/main"
    assert plan.termination_path == Path("/host/pod/termination/main")
    assert plan.log_path == Path("/host/pod/logs/main.log")


def test_process_env_passes_only_path_and_lang_from_the_host() -> None:
    container = {"name": "c", "image": "atomesh", "command": ["python"], "env": [{"name": "HOME", "value": "/h"}]}
    plan = build_container_plan(config(), pod([container]), container, init=False, layout=LAYOUT, resources={})
    assert plan.env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HOME": "/h",
        "TMPDIR": "/host/pod/tmp",
        "HOSTNAME": "p",
    }
    assert plan.argv == ("python",)
    assert plan.cwd == "/host/pod/home"


def test_env_from_secret_configmap_and_field_refs() -> None:
    container = {
        "name": "c",
        "image": "atomesh",
        "command": ["x"],
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
        "env": [
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "level"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}}},
        ],
    }
    resources = {("Secret", "s"): {"token": b"t0k"}, ("ConfigMap", "cm"): {"level": b"debug"}}
    the_pod = pod([container])
    assert collect_references(the_pod) == {("Secret", "s"), ("ConfigMap", "cm"), ("Secret", "absent")}
    plan = build_container_plan(config(), the_pod, container, init=False, layout=LAYOUT, resources=resources)
    assert plan.env["TOKEN"] == "t0k"
    assert plan.env["LEVEL"] == "debug"
    assert plan.env["CM_level"] == "debug"
    assert (plan.env["POD"], plan.env["NS"], plan.env["UID"]) == ("p", "ns", "u-1")
    assert "OPT" not in plan.env


def test_missing_secret_and_key_are_config_errors_naming_them() -> None:
    container = {
        "name": "c",
        "image": "atomesh",
        "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
    }
    with pytest.raises(PodConfigError) as missing:
        build_container_plan(config(), pod([container]), container, init=False, layout=LAYOUT, resources={})
    assert missing.value.reason == "CreateContainerConfigError"
    assert 'secret "s" not found' in missing.value.message
    assert missing.value.retryable
    with pytest.raises(PodConfigError) as no_key:
        build_container_plan(
            config(), pod([container]), container, init=False, layout=LAYOUT, resources={("Secret", "s"): {}}
        )
    assert "couldn't find key k in Secret ns/s" in no_key.value.message


def test_unknown_image_without_command_is_an_error() -> None:
    container = {"name": "c", "image": "atomesh-other"}
    with pytest.raises(PodConfigError) as error:
        build_container_plan(
            config(entrypoints={}), pod([container]), container, init=False, layout=LAYOUT, resources={}
        )
    assert error.value.reason == "CreateContainerError"
    assert not error.value.retryable
    assert "entrypoint" in error.value.message


def test_volume_files_for_secret_configmap_and_downward_api() -> None:
    the_pod = pod([])
    secret = {"kind": "Secret", "data": {"a": base64.b64encode(b"A").decode(), "b": base64.b64encode(b"B").decode()}}
    resources = {
        ("Secret", "s"): decode_data("Secret", secret),
        ("ConfigMap", "cm"): decode_data("ConfigMap", {"data": {"x": "X"}}),
    }
    assert build_volume_files(the_pod, {"name": "e", "emptyDir": {}}, resources) == []
    assert build_volume_files(
        the_pod, {"name": "v", "secret": {"secretName": "s", "defaultMode": 0o400}}, resources
    ) == [
        VolumeFile("a", b"A", 0o400),
        VolumeFile("b", b"B", 0o400),
    ]
    items = {"name": "v", "secret": {"secretName": "s", "items": [{"key": "b", "path": "sub/bee", "mode": 0o600}]}}
    assert build_volume_files(the_pod, items, resources) == [VolumeFile("sub/bee", b"B", 0o600)]
    assert build_volume_files(the_pod, {"name": "v", "configMap": {"name": "cm"}}, resources) == [
        VolumeFile("x", b"X", 0o644)
    ]
    downward = {
        "name": "d",
        "downwardAPI": {
            "items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
            ]
        },
    }
    assert build_volume_files(the_pod, downward, resources) == [
        VolumeFile("labels", b'a="1"\nb="2"', 0o644),
        VolumeFile("name", b"p", 0o644),
    ]
    assert field_value(the_pod, "metadata.labels['b']") == "2"


def test_volume_errors_name_volume_and_source() -> None:
    with pytest.raises(PodConfigError) as missing:
        build_volume_files(pod([]), {"name": "v", "configMap": {"name": "gone"}}, {})
    assert missing.value.message == 'MountVolume.SetUp failed for volume "v" : configmap "gone" not found'
    assert build_volume_files(pod([]), {"name": "v", "configMap": {"name": "gone", "optional": True}}, {}) == []
    with pytest.raises(PodConfigError) as escape:
        build_volume_files(
            pod([]),
            {"name": "v", "configMap": {"name": "c", "items": [{"key": "k", "path": "../x"}]}},
            {("ConfigMap", "c"): {"k": b""}},
        )
    assert "must be relative" in escape.value.message
    with pytest.raises(PodConfigError) as unsupported:
        build_volume_files(pod([]), {"name": "h", "hostPath": {"path": "/"}}, {})
    assert not unsupported.value.retryable
    assert "hostPath" in unsupported.value.message
