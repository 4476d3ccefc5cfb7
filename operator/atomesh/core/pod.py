"""The runner pod and its run file: pure builders.

The run file travels in the pod itself, in the `atomesh.io/run-file` annotation projected into the
steps' file system by a downward API volume, so starting a run writes one object (the pod). A run
file too large for an annotation (Kubernetes caps an object's annotations at 256 KiB together)
goes in a ConfigMap of its own, mounted at the same path, as before.

The steps share an emptyDir at WORK_MOUNT: `checkout`, `agent` and (only for an Agent declaring
`spec.review.pages.build`) `build` run as init containers, `publish` as the main container.
Credentials go only where DESIGN.md allows: the forge token to checkout and publish; the model key
to the `model-proxy` sidecar alone (an init container with `restartPolicy: Always`, started just
before `agent` and running until the pod ends). The agent step gets the proxy's URL and a per-run
token through a memory volume only the two of them mount, so the key never enters the agent's
container. `build` runs agent-written commands as `agent` does and holds less: no forge token, no
model key, no proxy volume and no service account token (one, when asked for, is the agent step's
alone). Owner references are added by the controller (kopf.adopt), so these functions depend only on
their arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atomesh.api import constants as k
from atomesh.api.agent import AgentSpec
from atomesh.api.agentrun import AgentRun, AgentSnapshot, Usage
from atomesh.api.budget import WindowRoom
from atomesh.api.common import parse_duration
from atomesh.api.runfile import RunFile
from atomesh.core.config import OperatorConfig
from atomesh.core.context import context_volume
from atomesh.core.gatewaykey import SECRET_KEY, gateway_key_secret_name, wants_virtual_key
from atomesh.core.hashing import bounded_name

RUNNER_UID = 65532
WORK_VOLUME = "work"
RUN_VOLUME = "run"
MODEL_PROXY_VOLUME = "model-proxy"
# The proxy is a small aiohttp process; it needs no share of the Agent's runner resources.
MODEL_PROXY_RESOURCES = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
HOME_DIR = f"{k.WORK_MOUNT}/home"
TMP_DIR = f"{k.WORK_MOUNT}/tmp"
MAX_POD_NAME = 63
# Keeps the run name a valid label value and the pod name within a DNS label.
POD_SUFFIX = "-runner"
CONFIGMAP_SUFFIX = "-run"
RUN_FILE_ANNOTATION = f"{k.GROUP}/run-file"
# Half of the API server's 256 KiB for all annotations: the rest stays for kubectl's and other tools'.
RUN_FILE_ANNOTATION_LIMIT = 128 * 1024


@dataclass(frozen=True)
class RevisionContext:
    """Where a revision run continues: the original branch and pull request."""

    branch: str
    pull_request: int | None
    revision: int


@dataclass(frozen=True)
class AttemptContext:
    """What one attempt of a run starts with: its number (above 1, a Paused run resumes its own session
    and work), what earlier attempts spent, and what its budget windows have left (its allowance)."""

    number: int = 1
    spent: Usage | None = None
    window_room: WindowRoom | None = None


def _attempt_suffix(suffix: str, attempt: int) -> str:
    return suffix if attempt <= 1 else f"{suffix}-{attempt}"


def runner_pod_name(run_name: str, attempt: int = 1) -> str:
    """`<run>-runner`, and `<run>-runner-<attempt>` for the attempts of a resumed run."""
    return bounded_name(run_name, _attempt_suffix(POD_SUFFIX, attempt), MAX_POD_NAME)


def run_configmap_name(run_name: str, attempt: int = 1) -> str:
    return bounded_name(run_name, _attempt_suffix(CONFIGMAP_SUFFIX, attempt), MAX_POD_NAME)


def branch_name(agent: str, run: str) -> str:
    return f"{k.BRANCH_PREFIX}/{agent}/{run}"


def revision_context(previous: AgentRun | None) -> RevisionContext | None:
    """A revision run pushes to its predecessor's branch and updates its pull request."""
    status = previous.status if previous is not None else None
    if status is None or status.artifact is None or not status.artifact.branch:
        return None
    review = status.review
    return RevisionContext(
        branch=status.artifact.branch,
        pull_request=review.number if review else None,
        revision=(review.revision if review else 0) + 1,
    )


def build_run_file(
    run: AgentRun,
    snapshot: AgentSnapshot,
    revision: RevisionContext | None = None,
    attempt: AttemptContext | None = None,
) -> RunFile:
    meta = run.metadata
    target = run.spec.pull_request
    if revision is None and target is not None:
        # Work on someone's pull request: its head branch, no pull request of the run's own.
        revision = RevisionContext(branch=target.head_branch, pull_request=target.number, revision=0)
    return RunFile(
        namespace=meta.namespace or "default",
        run=meta.name,
        run_uid=meta.uid or "",
        agent=snapshot.name,
        mesh=meta.labels.get(k.LABEL_MESH, ""),
        agent_revision=snapshot.revision,
        agent_commit=snapshot.commit,
        spec_hash=snapshot.spec_hash,
        spec=snapshot.spec,
        input=run.spec.input,
        trigger=run.spec.trigger,
        branch=revision.branch if revision else branch_name(snapshot.name, meta.name),
        revision_of=run.spec.revision_of,
        revision=revision.revision if revision else 0,
        pull_request=revision.pull_request if revision else None,
        onto_pull_request=True if target is not None else None,  # absent from the usual run file
        feedback=run.spec.feedback,
        contexts=snapshot.contexts,
        attempt=attempt.number if attempt and attempt.number > 1 else None,
        spent=attempt.spent if attempt else None,
        window_room=attempt.window_room if attempt else None,
    )


def _labels(run: AgentRun, snapshot: AgentSnapshot, component: str) -> dict[str, str]:
    return {
        k.LABEL_AGENT: snapshot.name,
        k.LABEL_RUN: run.metadata.name,
        k.LABEL_COMPONENT: component,
        k.LABEL_MANAGED_BY: k.MANAGED_BY,
    }


def run_file_json(
    run: AgentRun,
    snapshot: AgentSnapshot,
    revision: RevisionContext | None = None,
    attempt: AttemptContext | None = None,
) -> str:
    """The run file as the steps read it; it holds no credential."""
    run_file = build_run_file(run, snapshot, revision, attempt)
    return run_file.model_dump_json(by_alias=True, exclude_none=True, indent=2)


def build_runner_objects(
    run: AgentRun,
    snapshot: AgentSnapshot,
    config: OperatorConfig,
    revision: RevisionContext | None = None,
    attempt: AttemptContext | None = None,
) -> tuple[dict[str, Any], ...]:
    """What starts the run (or its next attempt), in creation order: its pod carrying the run file, or (for
    a run file too large for an annotation) the run file's ConfigMap and then the pod mounting it."""
    run_file = run_file_json(run, snapshot, revision, attempt)
    number = attempt.number if attempt else 1
    if len(run_file.encode()) <= RUN_FILE_ANNOTATION_LIMIT:
        return (build_runner_pod(run, snapshot, config, run_file, number),)
    return (
        build_run_configmap(run, snapshot, revision, attempt),
        build_runner_pod(run, snapshot, config, None, number),
    )


def build_run_configmap(
    run: AgentRun,
    snapshot: AgentSnapshot,
    revision: RevisionContext | None = None,
    attempt: AttemptContext | None = None,
) -> dict[str, Any]:
    """The ConfigMap holding a run file too large for the pod's annotation."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": run_configmap_name(run.metadata.name, attempt.number if attempt else 1),
            "namespace": run.metadata.namespace,
            "labels": _labels(run, snapshot, "run-file"),
        },
        "data": {k.RUN_FILE_NAME: run_file_json(run, snapshot, revision, attempt)},
    }


def _env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _common_env() -> list[dict[str, Any]]:
    return [
        _env(k.ENV_RUN_FILE, f"{k.RUN_FILE_MOUNT}/{k.RUN_FILE_NAME}"),
        _env(k.ENV_WORKSPACE, k.WORKSPACE_DIR),
        _env(k.ENV_STATE_DIR, k.STATE_DIR),
        _env(k.ENV_TERMINATION_MESSAGE_PATH, k.TERMINATION_MESSAGE_PATH),
        # The root filesystem is read-only: tools that write to HOME or TMPDIR use the shared volume.
        _env("HOME", HOME_DIR),
        _env("TMPDIR", TMP_DIR),
    ]


def _forge_env(snapshot: AgentSnapshot, config: OperatorConfig) -> list[dict[str, Any]]:
    ref = snapshot.spec.workspace.credentials_secret_ref
    secret, key = (ref.name, ref.key) if ref else (config.forge_secret_name, config.forge_secret_key)
    return [
        _env(k.ENV_FORGE_API_URL, config.forge_api_url),
        _env(k.ENV_FORGE_GIT_URL, config.forge_git_url),
        _secret_env(k.ENV_FORGE_TOKEN, secret, key),
    ]


def _model_proxy_env(snapshot: AgentSnapshot, config: OperatorConfig) -> list[dict[str, Any]]:
    harness = snapshot.spec.harness
    ref = harness.credentials_secret_ref
    secret, key = (ref.name, ref.key) if ref else (config.model_secret_name, config.model_secret_key)
    if wants_virtual_key(snapshot.spec):
        # The Agent's own LiteLLM key (controller.gatewaykey), which the gateway holds to its budget.
        secret, key = gateway_key_secret_name(snapshot.name), SECRET_KEY
    return [
        _env(k.ENV_RUN_FILE, f"{k.RUN_FILE_MOUNT}/{k.RUN_FILE_NAME}"),
        _env(k.ENV_MODEL_PROXY_DIR, k.MODEL_PROXY_MOUNT),
        _env(k.ENV_MODEL_UPSTREAM_URL, harness.base_url or config.model_base_url),
        _secret_env(k.ENV_MODEL_API_KEY, secret, key),
    ]


def _mount(volume: str, path: str, *, read_only: bool = False) -> dict[str, Any]:
    return {"name": volume, "mountPath": path, **({"readOnly": True} if read_only else {})}


def _container(
    step: str,
    image: str,
    env: list[dict[str, Any]],
    snapshot: AgentSnapshot,
    config: OperatorConfig,
    mounts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": step,
        "image": image,
        "imagePullPolicy": config.image_pull_policy,
        "args": ["runner", step],
        "env": env,
        "volumeMounts": mounts
        or [_mount(WORK_VOLUME, k.WORK_MOUNT), _mount(RUN_VOLUME, k.RUN_FILE_MOUNT, read_only=True)],
        "terminationMessagePath": k.TERMINATION_MESSAGE_PATH,
        # A step that dies before writing its message still leaves its log tail for the run's status.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUNNER_UID,
            "runAsGroup": RUNNER_UID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if snapshot.spec.runner.resources:
        container["resources"] = {key: dict(value) for key, value in snapshot.spec.runner.resources.items()}
    return container


def _model_proxy_container(image: str, snapshot: AgentSnapshot, config: OperatorConfig) -> dict[str, Any]:
    """The sidecar holding the model key: no workspace, only the run file and the proxy volume."""
    mounts = [_mount(RUN_VOLUME, k.RUN_FILE_MOUNT, read_only=True), _mount(MODEL_PROXY_VOLUME, k.MODEL_PROXY_MOUNT)]
    container = _container(
        k.RUNNER_CONTAINER_MODEL_PROXY, image, _model_proxy_env(snapshot, config), snapshot, config, mounts
    )
    container["args"] = [k.RUNNER_CONTAINER_MODEL_PROXY]
    # A native sidecar (Kubernetes 1.29+): started before `agent`, stopped after `publish`.
    container["restartPolicy"] = "Always"
    container["resources"] = {key: dict(value) for key, value in MODEL_PROXY_RESOURCES.items()}
    return container


def _agent_container(image: str, snapshot: AgentSnapshot, config: OperatorConfig) -> dict[str, Any]:
    mounts = [
        _mount(WORK_VOLUME, k.WORK_MOUNT),
        _mount(RUN_VOLUME, k.RUN_FILE_MOUNT, read_only=True),
        _mount(MODEL_PROXY_VOLUME, k.MODEL_PROXY_MOUNT, read_only=True),
    ]
    env = [*_common_env(), _env(k.ENV_MODEL_PROXY_DIR, k.MODEL_PROXY_MOUNT)]
    return _container(k.RUNNER_CONTAINER_AGENT, image, env, snapshot, config, mounts)


def runner_steps(spec: AgentSpec) -> tuple[str, ...]:
    """The steps a run's pod runs, in order: `build` only when the Agent declares a site build."""
    pages = spec.review.pages
    builds = pages is not None and pages.build is not None
    return tuple(step for step in k.RUNNER_STEPS if builds or step != k.RUNNER_CONTAINER_BUILD)


def _build_container(image: str, snapshot: AgentSnapshot, config: OperatorConfig) -> dict[str, Any]:
    """The site build: the workspace and the run file, and no credential of any kind."""
    return _container(k.RUNNER_CONTAINER_BUILD, image, _common_env(), snapshot, config)


def build_local_runner_placement() -> dict[str, Any]:
    """What places a runner pod on the local runner's Node and nowhere else: its label as nodeSelector
    and a toleration of its NoSchedule taint (which keeps every other pod off it)."""
    return {
        "nodeSelector": {k.LABEL_LOCAL_RUNNER: k.LOCAL_RUNNER_VALUE},
        "tolerations": [
            {
                "key": k.TAINT_LOCAL_RUNNER,
                "operator": "Equal",
                "value": k.LOCAL_RUNNER_VALUE,
                "effect": "NoSchedule",
            }
        ],
    }


SERVICE_ACCOUNT_TOKEN_VOLUME = "service-account-token"  # noqa: S105 - a volume's name
# Where in-cluster clients (client-go, the kubernetes package, kubectl) look for a token, CA and namespace.
SERVICE_ACCOUNT_TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"  # noqa: S105 - a path
SERVICE_ACCOUNT_TOKEN_SECONDS = 3600


def service_account_token_volume() -> dict[str, Any]:
    """What ServiceAccount admission would mount into every container, for one step: a token the kubelet
    requests for the pod's own ServiceAccount, bound to the pod; the cluster CA; the namespace."""
    namespace = {"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}
    return {
        "name": SERVICE_ACCOUNT_TOKEN_VOLUME,
        "projected": {
            "defaultMode": 0o444,
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": SERVICE_ACCOUNT_TOKEN_SECONDS}},
                # Published in every namespace by a cluster; optional so a cluster without it still starts the pod.
                {
                    "configMap": {
                        "name": "kube-root-ca.crt",
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        "optional": True,
                    }
                },
                {"downwardAPI": {"items": [namespace]}},
            ],
        },
    }


def _run_file_volume(run: AgentRun, run_file: str | None, attempt: int) -> dict[str, Any]:
    if run_file is None:
        return {"name": RUN_VOLUME, "configMap": {"name": run_configmap_name(run.metadata.name, attempt)}}
    field = {"fieldPath": f"metadata.annotations['{RUN_FILE_ANNOTATION}']"}
    return {"name": RUN_VOLUME, "downwardAPI": {"items": [{"path": k.RUN_FILE_NAME, "fieldRef": field}]}}


def build_runner_pod(
    run: AgentRun, snapshot: AgentSnapshot, config: OperatorConfig, run_file: str | None = None, attempt: int = 1
) -> dict[str, Any]:
    """The runner pod of `run`; deterministic, so creating it twice yields AlreadyExists, never a duplicate.
    With `run_file` it carries the run file itself; without, it mounts the run's ConfigMap."""
    spec = snapshot.spec
    image = spec.runner.image or config.runner_image
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": parse_duration(spec.limits.timeout),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUNNER_UID,
            "runAsGroup": RUNNER_UID,
            "fsGroup": RUNNER_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumes": [
            {"name": WORK_VOLUME, "emptyDir": {}},
            _run_file_volume(run, run_file, attempt),
            {"name": MODEL_PROXY_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        ],
        "initContainers": [
            _container(
                k.RUNNER_CONTAINER_CHECKOUT, image, _common_env() + _forge_env(snapshot, config), snapshot, config
            ),
            _model_proxy_container(image, snapshot, config),
            _agent_container(image, snapshot, config),
        ]
        + ([_build_container(image, snapshot, config)] if k.RUNNER_CONTAINER_BUILD in runner_steps(spec) else []),
        "containers": [
            _container(
                k.RUNNER_CONTAINER_PUBLISH, image, _common_env() + _forge_env(snapshot, config), snapshot, config
            )
        ],
    }
    contexts = context_volume(snapshot.contexts)
    if contexts is not None:  # ConfigMap contexts: read-only, for the agent step alone
        pod_spec["volumes"].append(contexts)
        agent = next(step for step in pod_spec["initContainers"] if step["name"] == k.RUNNER_CONTAINER_AGENT)
        agent["volumeMounts"].append({"name": contexts["name"], "mountPath": k.CONTEXT_MOUNT, "readOnly": True})
        agent["env"].append(_env(k.ENV_CONTEXT_DIR, k.CONTEXT_MOUNT))
    if spec.runner.service_account_name:
        pod_spec["serviceAccountName"] = spec.runner.service_account_name
    if spec.runner.automount_service_account_token:  # the agent step alone; the pod-wide automount stays off
        pod_spec["volumes"].append(service_account_token_volume())
        agent = next(step for step in pod_spec["initContainers"] if step["name"] == k.RUNNER_CONTAINER_AGENT)
        agent["volumeMounts"].append(_mount(SERVICE_ACCOUNT_TOKEN_VOLUME, SERVICE_ACCOUNT_TOKEN_MOUNT, read_only=True))
    if config.local_runner:
        pod_spec.update(build_local_runner_placement())
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": runner_pod_name(run.metadata.name, attempt),
            "namespace": run.metadata.namespace,
            "labels": _labels(run, snapshot, "runner"),
            "annotations": {
                f"{k.GROUP}/agent-revision": snapshot.revision,
                f"{k.GROUP}/spec-hash": snapshot.spec_hash,
                **({RUN_FILE_ANNOTATION: run_file} if run_file is not None else {}),
            },
        },
        "spec": pod_spec,
    }
