"""Pure: one container of a pod -> the process the local kubelet starts.

Pod paths are mapped to host paths so the same pod spec works in a cluster and here:
every env value, `args` element and `workingDir` that equals or lies under a
volumeMount's `mountPath` is rewritten to the volume's host directory (the longest mount
wins), and a value equal to the container's `terminationMessagePath` becomes the host file
the kubelet reads after exit. Values embedded in longer strings (``--out=/data/x``) are left
alone: the rule is predictable rather than clever. `command` is not mapped: with no image
filesystem, it names a host program (often ``sys.executable``, which may itself lie under a
path such as ``/workspace`` that a pod also mounts).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.devstack.kubelet.layout import PodConfigError, PodLayout
from atomesh.devstack.kubelet.volumes import CONFIG_MAP, SECRET, Resources, field_value

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"
CONFIG_ERROR = "CreateContainerConfigError"


@dataclass(frozen=True)
class Mount:
    """A pod path and the host path it stands for; `exact` mounts map only the path itself."""

    pod_path: str
    host_path: str
    exact: bool = False

    def maps(self, value: str) -> str | None:
        base = self.pod_path.rstrip("/") or "/"
        if value == self.pod_path or value == base:
            return self.host_path
        if self.exact:
            return None
        prefix = base if base.endswith("/") else base + "/"
        if value.startswith(prefix):
            return self.host_path.rstrip("/") + "/" + value[len(prefix) :]
        return None


@dataclass(frozen=True)
class ContainerPlan:
    name: str
    image: str
    init: bool
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    log_path: Path
    termination_path: Path
    termination_policy: str
    # Start the process in a user namespace of its own (isolation.py).
    user_namespace: bool = False


def map_path(value: str, mounts: Sequence[Mount]) -> str:
    """`value` with a pod path prefix replaced by its host path; unchanged when no mount matches."""
    exact = [m for m in mounts if m.exact]
    ordered = exact + sorted((m for m in mounts if not m.exact), key=lambda m: len(m.pod_path), reverse=True)
    for mount in ordered:
        mapped = mount.maps(value)
        if mapped is not None:
            return mapped
    return value


_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand_vars(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined variables are replaced, ``$$`` escapes a
    ``$``, and references to undefined variables stay as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR.sub(replace, text)


def _key_ref(kind: str, ref: Mapping[str, Any], namespace: str, resources: Resources, var: str) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    data = resources.get((kind, name))
    label = "secret" if kind == SECRET else "configmap"
    if data is None:
        if ref.get("optional"):
            return None
        raise PodConfigError(CONFIG_ERROR, f'{label} "{name}" not found (env {var})')
    if key not in data:
        if ref.get("optional"):
            return None
        raise PodConfigError(CONFIG_ERROR, f"couldn't find key {key} in {kind} {namespace}/{name} (env {var})")
    return data[key].decode("utf-8", errors="replace")


def build_env(pod: Mapping[str, Any], container: Mapping[str, Any], resources: Resources) -> dict[str, str]:
    """The container's own environment (envFrom, then env, ``$(VAR)`` expanded), before mapping."""
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    env: dict[str, str] = {}
    for env_from in container.get("envFrom") or []:
        prefix = env_from.get("prefix", "")
        for kind, ref_key in ((SECRET, "secretRef"), (CONFIG_MAP, "configMapRef")):
            if ref_key not in env_from:
                continue
            ref = env_from[ref_key]
            data = resources.get((kind, ref.get("name", "")))
            if data is None:
                if ref.get("optional"):
                    continue
                label = "secret" if kind == SECRET else "configmap"
                raise PodConfigError(CONFIG_ERROR, f'{label} "{ref.get("name", "")}" not found (envFrom)')
            for key, raw in data.items():
                if "=" not in key:
                    env[prefix + key] = raw.decode("utf-8", errors="replace")
    for item in container.get("env") or []:
        var = item.get("name", "")
        if "valueFrom" not in item:
            env[var] = expand_vars(str(item.get("value", "")), env)
            continue
        value_from = item["valueFrom"]
        value: str | None
        if "secretKeyRef" in value_from:
            value = _key_ref(SECRET, value_from["secretKeyRef"], namespace, resources, var)
        elif "configMapKeyRef" in value_from:
            value = _key_ref(CONFIG_MAP, value_from["configMapKeyRef"], namespace, resources, var)
        elif "fieldRef" in value_from:
            value = field_value(pod, value_from["fieldRef"].get("fieldPath", ""))
        else:
            raise PodConfigError(
                CONFIG_ERROR,
                f"env {var}: valueFrom {sorted(value_from)} is not supported by the local kubelet "
                "(use value, secretKeyRef, configMapKeyRef or fieldRef)",
                retryable=False,
            )
        if value is not None:
            env[var] = value
    return env


def build_mounts(pod: Mapping[str, Any], container: Mapping[str, Any], layout: PodLayout) -> list[Mount]:
    """The container's volumeMounts (with subPath) and its termination message file."""
    volumes = {v.get("name") for v in (pod.get("spec") or {}).get("volumes") or []}
    mounts = []
    for vm in container.get("volumeMounts") or []:
        name = vm.get("name", "")
        if name not in volumes:
            raise PodConfigError(
                CONFIG_ERROR,
                f'container {container.get("name")}: volumeMount "{name}" names no volume in spec.volumes',
                retryable=False,
            )
        host = layout.volume(name)
        sub = vm.get("subPath", "")
        if sub:
            if sub.startswith("/") or ".." in sub.split("/"):
                raise PodConfigError(
                    CONFIG_ERROR, f'volumeMount "{name}": subPath {sub!r} must be relative', retryable=False
                )
            host = host / sub
        mounts.append(Mount(vm.get("mountPath", ""), str(host)))
    termination = container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH
    mounts.append(Mount(termination, str(layout.termination(container.get("name", ""))), exact=True))
    return mounts


def build_container_plan(
    config: KubeletConfig,
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    *,
    init: bool,
    layout: PodLayout,
    resources: Resources,
) -> ContainerPlan:
    """Everything needed to start one container as a local process (PodConfigError if it cannot)."""
    name = container.get("name", "")
    image = container.get("image", "")
    own_env = build_env(pod, container, resources)
    command = [expand_vars(str(part), own_env) for part in container.get("command") or []]
    args = [expand_vars(str(part), own_env) for part in container.get("args") or []]
    if not command:
        entrypoint = config.entrypoint_for(image)
        if entrypoint is None:
            raise PodConfigError(
                "CreateContainerError",
                f'container {name}: image "{image}" has no entrypoint known to the local kubelet; '
                "set `command` or add the image to the kubelet's entrypoint map",
                retryable=False,
            )
        command = entrypoint
    mounts = build_mounts(pod, container, layout)
    env = {
        **config.base_env(),
        "HOME": str(layout.home),
        "TMPDIR": str(layout.tmp),
        "HOSTNAME": (pod.get("metadata") or {}).get("name", ""),
    }
    env.update({key: map_path(value, mounts) for key, value in own_env.items()})
    working_dir = container.get("workingDir")
    return ContainerPlan(
        name=name,
        image=image,
        init=init,
        argv=(*command, *(map_path(arg, mounts) for arg in args)),
        env=env,
        cwd=map_path(working_dir, mounts) if working_dir else str(layout.home),
        log_path=layout.log(name),
        termination_path=layout.termination(name),
        termination_policy=container.get("terminationMessagePolicy") or "File",
        user_namespace=config.user_namespaces,
    )
