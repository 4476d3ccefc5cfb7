"""`atomesh dev --join KUBECONFIG`: an existing API server (kind, k3d, a real cluster) in the place
of the Kubernetes emulator.

On start it reads the kubeconfig as the local kubelet will (`atomesh.devstack.kubelet.kubeconfig`:
client certificates, CA, tokens; anything else refused by name), checks that the server answers
`/version` with these credentials, and installs the CRDs (create or replace, then wait until each is
Established and served). It never writes the kubeconfig and leaves the cluster's objects in place on
stop; the CRDs stay installed, as `kubectl apply -f crds/` would leave them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from atomesh.devstack.kubelet.apiclient import ApiClient, ApiStatusError
from atomesh.devstack.kubelet.kubeconfig import load_connection
from atomesh.devstack.stack import KubeEndpoint, install_crds


class JoinError(Exception):
    """The cluster cannot be joined; the message says which server and what it answered."""


class JoinedCluster(KubeEndpoint):
    def __init__(self, kubeconfig: Path, *, crds: Sequence[dict[str, Any]] = (), context: str | None = None) -> None:
        self.kubeconfig = kubeconfig
        self._crds = crds
        self._context = context
        self.url = ""
        self.version = ""

    async def start(self) -> str:
        connection = load_connection(self.kubeconfig, self._context)
        self.url, self.token, self.tls = connection.server, connection.token, connection.tls
        api = ApiClient(self.url, self.token, self.tls)
        try:
            try:
                info = await api.request("GET", "/version")
            except (ApiStatusError, aiohttp.ClientError, TimeoutError) as exc:
                raise JoinError(f"--join {self.kubeconfig}: the API server {self.url} did not answer: {exc}") from exc
            self.version = str((info or {}).get("gitVersion", "")) if isinstance(info, dict) else ""
            try:
                await install_crds(api, self._crds)
            except ApiStatusError as exc:
                raise JoinError(f"--join {self.kubeconfig}: installing the CRDs on {self.url} failed: {exc}") from exc
        finally:
            await api.close()
        return f"{self.url}  (joined through {self.kubeconfig}, Kubernetes {self.version or 'unknown'}; CRDs installed)"

    async def stop(self) -> None:
        return None
