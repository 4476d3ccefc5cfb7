"""A kubelet in a daemon thread with its log endpoint on a free port: for tests and scripts
that are not themselves asyncio programs (`atomesh dev` runs the kubelet on its own loop)."""

from __future__ import annotations

from typing import Any

from atomesh.devstack.kubelet.config import KubeletConfig
from atomesh.devstack.kubelet.kubelet import Kubelet
from atomesh.devstack.serving import BackgroundServer


class BackgroundKubelet:
    def __init__(self, config: KubeletConfig) -> None:
        self.kubelet = Kubelet(config)
        self._server = BackgroundServer(self.kubelet.log_app_factory, name="kubelet")
        self._running = False

    @property
    def url(self) -> str:
        """The kubelet's own endpoint (container logs at /containerLogs/NS/POD/CONTAINER)."""
        return self._server.url

    def start(self) -> BackgroundKubelet:
        self._server.start()
        self._running = True
        try:
            self._server.call(lambda: self.kubelet.start(self._server.url))
            self._server.call(self.kubelet.wait_synced)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kills every process of every pod, then stops the thread; idempotent."""
        if not self._running:
            return
        self._running = False
        try:
            self._server.call(self.kubelet.stop)
        finally:
            self._server.stop()

    def __enter__(self) -> BackgroundKubelet:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
