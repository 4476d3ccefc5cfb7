"""The runner pod builder: golden manifest plus the properties DESIGN.md asks for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from core_builders import run, snapshot

from atomesh.api import constants as k
from atomesh.api.agentrun import AgentRun, AgentRunStatus, Artifact, ReviewStatus
from atomesh.api.context import ContextVersion
from atomesh.api.runfile import RunFile
from atomesh.core.config import OperatorConfig
from atomesh.core.pod import (
    RUN_FILE_ANNOTATION,
    SERVICE_ACCOUNT_TOKEN_MOUNT,
    SERVICE_ACCOUNT_TOKEN_VOLUME,
    build_run_configmap,
    build_runner_objects,
    build_runner_pod,
    revision_context,
    run_configmap_name,
    runner_pod_name,
)

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "runner_pod.yaml"
REGENERATE = "ATOMESH_REGENERATE_GOLDEN"
CONFIG = OperatorConfig(
    runner_image="ghcr.io/atomesh/atomesh:test",
    forge_api_url="https://forge.example/api/v3",
    forge_git_url="https://forge.example",
)


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container["env"]}


def containers(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in pod["spec"]["initContainers"] + pod["spec"]["containers"]}


def test_golden_manifest() -> None:
    """Set ATOMESH_REGENERATE_GOLDEN=1 to rewrite the golden file after an intended change."""
    (pod,) = build_runner_objects(run(), snapshot(runner={"resources": {"limits": {"memory": "1Gi"}}}), CONFIG)
    text = yaml.safe_dump(pod, sort_keys=True)
    if os.environ.get(REGENERATE):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), f"pod manifest changed; regenerate with {REGENERATE}=1 if intended"


def test_steps_order_args_and_no_command() -> None:
    pod = build_runner_pod(run(), snapshot(), CONFIG)
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["checkout", "model-proxy", "agent"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["publish"]
    for name, container in containers(pod).items():
        assert container["args"] == (["model-proxy"] if name == "model-proxy" else ["runner", name])
        assert "command" not in container
        if name != k.RUNNER_CONTAINER_MODEL_PROXY:
            assert container["terminationMessagePath"] == env_of(container)[k.ENV_TERMINATION_MESSAGE_PATH]


@pytest.mark.parametrize(
    ("step", "has_forge", "has_model"),
    [("checkout", True, False), ("model-proxy", False, True), ("agent", False, False), ("publish", True, False)],
)
def test_credentials_only_where_allowed(step: str, has_forge: bool, has_model: bool) -> None:
    env = env_of(containers(build_runner_pod(run(), snapshot(), CONFIG))[step])
    assert (k.ENV_FORGE_TOKEN in env) is has_forge
    assert (k.ENV_MODEL_API_KEY in env) is has_model
    for value in env.values():  # secrets come by reference, never by value
        assert not isinstance(value, str) or "token" not in value.lower()


def test_model_secret_and_base_url_follow_the_harness() -> None:
    snap = snapshot(
        harness={
            "model": "m",
            "baseURL": "http://gateway:4000",
            "credentialsSecretRef": {"name": "team-llm", "key": "key"},
        }
    )
    env = env_of(containers(build_runner_pod(run(), snap, CONFIG))["model-proxy"])
    assert env[k.ENV_MODEL_UPSTREAM_URL] == "http://gateway:4000"
    assert env[k.ENV_MODEL_API_KEY] == {"secretKeyRef": {"name": "team-llm", "key": "key"}}


def test_an_agent_with_a_virtual_key_gives_the_proxy_its_own_key_secret() -> None:
    snap = snapshot(harness={"model": "m", "baseURL": "http://litellm:4000", "gateway": "litellm", "virtualKey": True})
    pod = build_runner_pod(run(), snap, CONFIG)
    env = env_of(containers(pod)["model-proxy"])
    assert env[k.ENV_MODEL_API_KEY] == {"secretKeyRef": {"name": f"{snap.name}-gateway-key", "key": "api-key"}}
    assert CONFIG.model_secret_name not in secret_names(pod)


def test_the_model_key_stays_in_the_proxy_sidecar() -> None:
    """The agent step gets the proxy's volume and no model variable but the directory; the proxy
    (a native sidecar) holds the key and does not mount the workspace the agent writes."""
    pod = build_runner_pod(run(), snapshot(), CONFIG)
    steps = containers(pod)
    proxy, agent = steps["model-proxy"], steps["agent"]
    assert proxy["restartPolicy"] == "Always"
    assert "restartPolicy" not in agent
    names = [c["name"] for c in pod["spec"]["initContainers"]]
    assert names.index("model-proxy") == names.index("agent") - 1  # started just before the agent step
    assert {m["name"] for m in proxy["volumeMounts"]} == {"run", "model-proxy"}
    agent_env = env_of(agent)
    assert agent_env[k.ENV_MODEL_PROXY_DIR] == k.MODEL_PROXY_MOUNT
    assert not any(name.startswith("ATOMESH_MODEL_") and name != k.ENV_MODEL_PROXY_DIR for name in agent_env)
    proxy_mount = {m["mountPath"]: m for m in agent["volumeMounts"]}[k.MODEL_PROXY_MOUNT]
    assert proxy_mount["readOnly"] is True
    for name in ("checkout", "publish"):
        assert k.MODEL_PROXY_MOUNT not in {m["mountPath"] for m in steps[name]["volumeMounts"]}
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "model-proxy")
    assert volume["emptyDir"]["medium"] == "Memory"


def secret_names(pod: dict[str, Any]) -> set[str]:
    """Every Secret the pod names: env references, envFrom and volumes."""
    names: set[str] = set()
    for container in containers(pod).values():
        for entry in container.get("env") or []:
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                names.add(ref["name"])
        names.update(e["secretRef"]["name"] for e in container.get("envFrom") or [] if "secretRef" in e)
    names.update(v["secret"]["secretName"] for v in pod["spec"].get("volumes") or [] if "secret" in v)
    return names


def test_an_agent_with_its_own_credentials_gets_only_those() -> None:
    snap = snapshot(
        workspace={"repo": "team-a/site", "credentialsSecretRef": {"name": "team-a-forge", "key": "token"}},
        harness={"model": "m", "credentialsSecretRef": {"name": "team-a-llm", "key": "key"}},
    )
    pod = build_runner_pod(run(), snap, CONFIG)
    steps = containers(pod)
    for step in ("checkout", "publish"):
        assert env_of(steps[step])[k.ENV_FORGE_TOKEN] == {"secretKeyRef": {"name": "team-a-forge", "key": "token"}}
    assert k.ENV_FORGE_TOKEN not in env_of(steps["agent"])
    # neither the installation's shared Secrets nor any other: a pod names Secrets of its own namespace only
    assert secret_names(pod) == {"team-a-forge", "team-a-llm"}
    assert secret_names(build_runner_pod(run(), snapshot(), CONFIG)) == {
        CONFIG.forge_secret_name,
        CONFIG.model_secret_name,
    }


def test_security_and_lifecycle() -> None:
    pod = build_runner_pod(run(), snapshot(), CONFIG)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    assert spec["activeDeadlineSeconds"] == 15 * 60
    assert spec["securityContext"]["runAsNonRoot"] is True
    for container in containers(pod).values():
        sc = container["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["runAsUser"] == 65532
        mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
        assert mounts[k.RUN_FILE_MOUNT]["readOnly"] is True
        assert (k.WORK_MOUNT in mounts) is (container["name"] != k.RUNNER_CONTAINER_MODEL_PROXY)
    assert pod["metadata"]["labels"][k.LABEL_RUN] == "tidy-1"
    assert pod["metadata"]["labels"][k.LABEL_AGENT] == "tidy"


@pytest.mark.parametrize("length", [5, 40, 56, 57, 63, 120])
def test_names_are_deterministic_and_bounded(length: int) -> None:
    name = "r" * length
    assert runner_pod_name(name) == runner_pod_name(name)
    assert len(runner_pod_name(name)) <= 63
    assert len(run_configmap_name(name)) <= 63
    assert runner_pod_name(name) != runner_pod_name(name + "x")


def test_the_pod_carries_the_run_file_in_an_annotation_projected_to_the_steps() -> None:
    (pod,) = build_runner_objects(run(), snapshot(), CONFIG)
    run_file = RunFile.model_validate_json(pod["metadata"]["annotations"][RUN_FILE_ANNOTATION])
    assert run_file.branch == "atomesh/tidy/tidy-1"
    assert run_file.input == {"topic": "release"}
    assert run_file.spec_hash == snapshot().spec_hash
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    (item,) = volumes["run"]["downwardAPI"]["items"]
    assert item == {
        "path": k.RUN_FILE_NAME,
        "fieldRef": {"fieldPath": f"metadata.annotations['{RUN_FILE_ANNOTATION}']"},
    }


def test_a_run_file_too_large_for_an_annotation_goes_in_a_configmap() -> None:
    large = run().model_copy(update={"spec": run().spec.model_copy(update={"input": {"text": "x" * 200_000}})})
    cm, pod = build_runner_objects(large, snapshot(), CONFIG)
    assert RunFile.model_validate_json(cm["data"][k.RUN_FILE_NAME]).input == {"text": "x" * 200_000}
    assert RUN_FILE_ANNOTATION not in pod["metadata"]["annotations"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["run"]["configMap"]["name"] == cm["metadata"]["name"]


def test_revision_run_continues_the_branch_and_pull_request() -> None:
    previous = run("tidy-1").model_copy(
        update={
            "status": AgentRunStatus(
                phase="Rejected",
                artifact=Artifact(type="doc", branch="atomesh/tidy/tidy-1"),
                review=ReviewStatus(number=7, revision=1),
            )
        }
    )
    ctx = revision_context(previous)
    assert ctx is not None
    revision = AgentRun.model_validate(
        {**run("tidy-1-r2").model_dump(by_alias=True), "spec": {"agentRef": {"name": "tidy"}, "revisionOf": "tidy-1"}}
    )
    run_file = RunFile.model_validate_json(build_run_configmap(revision, snapshot(), ctx)["data"][k.RUN_FILE_NAME])
    assert (run_file.branch, run_file.pull_request, run_file.revision) == ("atomesh/tidy/tidy-1", 7, 2)
    assert revision_context(run("tidy-1")) is None


def test_local_runner_placement_only_when_asked() -> None:
    assert "tolerations" not in build_runner_pod(run(), snapshot(), CONFIG)["spec"]
    assert "nodeSelector" not in build_runner_pod(run(), snapshot(), CONFIG)["spec"]
    local = build_runner_pod(run(), snapshot(), CONFIG.model_copy(update={"local_runner": True}))["spec"]
    assert local["nodeSelector"] == {"atomesh.io/local-runner": "true"}
    assert local["tolerations"] == [
        {"key": "atomesh.io/local-runner", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
    ]


def test_configmap_contexts_are_mounted_read_only_on_the_agent_step_alone() -> None:
    handbook = ContextVersion(
        name="handbook", kind="configMap", revision="r1", config_map="handbook", digest="sha256:x", files=["a"]
    )
    pod = build_runner_pod(run(), snapshot().model_copy(update={"contexts": [handbook]}), CONFIG)
    steps = containers(pod)
    mounts = {m["mountPath"]: m for m in steps[k.RUNNER_CONTAINER_AGENT]["volumeMounts"]}
    assert mounts[k.CONTEXT_MOUNT]["readOnly"] is True
    assert env_of(steps[k.RUNNER_CONTAINER_AGENT])[k.ENV_CONTEXT_DIR] == k.CONTEXT_MOUNT
    for name in (k.RUNNER_CONTAINER_CHECKOUT, k.RUNNER_CONTAINER_MODEL_PROXY, k.RUNNER_CONTAINER_PUBLISH):
        assert k.CONTEXT_MOUNT not in {m["mountPath"] for m in steps[name]["volumeMounts"]}


def test_the_agents_service_account_runs_the_pod_in_the_runs_namespace_without_a_token() -> None:
    pod = build_runner_pod(run(), snapshot(runner={"serviceAccountName": "tidy-agent"}), CONFIG)
    assert pod["metadata"]["namespace"] == "team"  # the run's, which is the Agent's: the account is looked up there
    assert pod["spec"]["serviceAccountName"] == "tidy-agent"
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert all(not v.get("projected") for v in pod["spec"]["volumes"])
    unset = build_runner_pod(run(), snapshot(), CONFIG)
    assert "serviceAccountName" not in unset["spec"]  # the namespace's default account, with no token either


@pytest.mark.parametrize("name", ["other-ns:builder", "system:serviceaccount:other:builder", "other/builder", "A"])
def test_a_service_account_of_another_namespace_cannot_be_named(name: str) -> None:
    with pytest.raises(ValueError, match="serviceAccountName"):
        snapshot(runner={"serviceAccountName": name})


def test_an_agent_that_opts_in_gets_its_accounts_token_in_the_agent_step_only() -> None:
    pod = build_runner_pod(
        run(), snapshot(runner={"serviceAccountName": "tidy-agent", "automountServiceAccountToken": True}), CONFIG
    )
    assert pod["spec"]["automountServiceAccountToken"] is False  # no admission-mounted token in every step
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == SERVICE_ACCOUNT_TOKEN_VOLUME]
    token, ca, namespace = volume["projected"]["sources"]
    assert token == {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}
    assert ca["configMap"]["name"] == "kube-root-ca.crt"
    assert namespace["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace"
    holders = {
        name
        for name, container in containers(pod).items()
        if any(m["name"] == SERVICE_ACCOUNT_TOKEN_VOLUME for m in container["volumeMounts"])
    }
    assert holders == {k.RUNNER_CONTAINER_AGENT}
    (mount,) = [m for m in containers(pod)["agent"]["volumeMounts"] if m["name"] == SERVICE_ACCOUNT_TOKEN_VOLUME]
    assert mount == {"name": SERVICE_ACCOUNT_TOKEN_VOLUME, "mountPath": SERVICE_ACCOUNT_TOKEN_MOUNT, "readOnly": True}
