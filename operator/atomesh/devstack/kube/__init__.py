"""A Kubernetes API server emulator that kubectl, the kubernetes python client and kopf use unmodified.

`create_app(state_dir)` builds the aiohttp application; `KubeAPIServer` serves it in a thread
for tests; `set_log_source(app, source)` lets the local kubelet serve `pods/log`. With
`create_app(access=AccessOptions(...))` it authenticates and authorises as kube-apiserver with
`--authorization-mode=RBAC` does (`access`; serve it over https with `pki.ClusterPKI`, since
kubectl sends tokens only over TLS); without, it allows every request.
"""

from atomesh.devstack.kube.app import KUBE_API, KubeAPI, create_app, set_log_source
from atomesh.devstack.kube.logs import LogSource, LogUnavailable
from atomesh.devstack.kube.server import KubeAPIServer, write_kubeconfig

__all__ = [
    "KUBE_API",
    "KubeAPI",
    "KubeAPIServer",
    "LogSource",
    "LogUnavailable",
    "create_app",
    "set_log_source",
    "write_kubeconfig",
]
