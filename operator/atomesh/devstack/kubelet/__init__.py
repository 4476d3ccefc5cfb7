"""A local kubelet: runs atomesh runner pods as local processes against any Kubernetes API.

`Kubelet` (asyncio) registers a Node and keeps its Lease and NodeStatus fresh (`heartbeat.py`),
watches Pods and runs the ones bound to its Node, or unassigned ones it may place there
(`placement.py`), whose images match its pattern;
`BackgroundKubelet` runs one in a thread; `KubeletConfig` says what and how. The rules of
the process environment and of path mapping are in `config.py` and `plan.py`.

Deliberately not emulated: images and image pulls, `securityContext` (processes run as the
kubelet's user), resource limits, probes, `readOnly` mounts, and restarts — every pod is run
once, as `restartPolicy: Never` (the policy of runner pods) prescribes.
"""

from atomesh.devstack.kubelet.background import BackgroundKubelet
from atomesh.devstack.kubelet.config import DEFAULT_IMAGE_PATTERN, DEFAULT_NODE_NAME, KubeletConfig, handles_pod
from atomesh.devstack.kubelet.kubelet import Kubelet, LogError

__all__ = [
    "DEFAULT_IMAGE_PATTERN",
    "DEFAULT_NODE_NAME",
    "BackgroundKubelet",
    "Kubelet",
    "KubeletConfig",
    "LogError",
    "handles_pod",
]
