"""What the local kubelet runs and how: image pattern, entrypoints, process environment.

The process environment rule (documented here because it is a security boundary):
a container process sees only ``PATH`` and ``LANG`` taken from the kubelet's own
environment, then ``HOME`` and ``TMPDIR`` (per-pod writable directories) and
``HOSTNAME`` (the pod name), then the container's ``envFrom`` and ``env`` (which win).
Nothing else from the host leaks in, so a developer's tokens never reach a runner pod.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from atomesh.devstack.kubelet.nodestatus import (
    LEASE_DURATION_SECONDS,
    STATUS_REPORT_FREQUENCY,
    STATUS_UPDATE_FREQUENCY,
    well_known_labels,
)
from atomesh.devstack.kubelet.placement import fits

DEFAULT_NODE_NAME = "atomesh-local"
DEFAULT_IMAGE_PATTERN = "atomesh"
# Variables passed through from the kubelet's environment; everything else is dropped.
PASSTHROUGH_ENV = ("PATH", "LANG")


def default_entrypoints() -> dict[str, list[str]]:
    """atomesh images run the installed package with the interpreter running the kubelet."""
    return {DEFAULT_IMAGE_PATTERN: [sys.executable, "-m", "atomesh"]}


@dataclass(frozen=True)
class KubeletConfig:
    """Settings of one local kubelet.

    `image_pattern` and the keys of `entrypoints` are regular expressions searched in
    the image name; the first matching entrypoint is used for containers without `command`.
    """

    server: str
    root_dir: Path
    token: str | None = None
    # TLS to the API server (CA, client certificate) from its kubeconfig; None for plain HTTP.
    tls: ssl.SSLContext | None = None
    node_name: str = DEFAULT_NODE_NAME
    # What the registered Node carries besides the well-known labels (`atomesh dev`: the local-runner
    # label and NoSchedule taint); pods that do not tolerate the taints are never run here.
    node_labels: Mapping[str, str] = field(default_factory=dict)
    node_taints: Sequence[Mapping[str, str]] = ()
    # Heartbeats, the real kubelet's defaults (seconds); tests shorten them.
    node_lease_duration_seconds: int = LEASE_DURATION_SECONDS
    node_status_update_frequency: float = STATUS_UPDATE_FREQUENCY
    node_status_report_frequency: float = STATUS_REPORT_FREQUENCY
    namespace: str | None = None
    image_pattern: str = DEFAULT_IMAGE_PATTERN
    entrypoints: Mapping[str, list[str]] = field(default_factory=default_entrypoints)
    # How often a pod that cannot start yet (missing Secret/ConfigMap) is retried.
    retry_interval: float = 2.0
    # Grace given to processes when the kubelet itself stops.
    shutdown_grace: float = 1.0
    host_env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Start each container in a user namespace of its own where the host allows it (isolation.py).
    user_namespaces: bool = True

    def handles_image(self, image: str) -> bool:
        return re.search(self.image_pattern, image) is not None

    def entrypoint_for(self, image: str) -> list[str] | None:
        for pattern, argv in self.entrypoints.items():
            if re.search(pattern, image):
                return list(argv)
        return None

    def base_env(self) -> dict[str, str]:
        return {name: self.host_env[name] for name in PASSTHROUGH_ENV if name in self.host_env}


def handles_pod(config: KubeletConfig, pod: Mapping[str, object]) -> bool:
    """Whether this kubelet runs `pod`: every container's image matches, and the pod is assigned to
    this node, or unassigned and placeable here (tolerates the Node's taints, matches its labels)."""
    spec = pod.get("spec")
    if not isinstance(spec, Mapping):
        return False
    node = spec.get("nodeName")
    if node and node != config.node_name:
        return False
    if not node and not fits(spec, {**well_known_labels(config.node_name), **config.node_labels}, config.node_taints):
        return False
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    if not containers:
        return False
    return all(isinstance(c, Mapping) and config.handles_image(str(c.get("image", ""))) for c in containers)
