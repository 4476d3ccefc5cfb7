"""`KubeAPIServer`: the emulator served in a background thread (tests, benchmarks), and the
kubeconfig that points real clients at it."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from atomesh.devstack.kube.app import KUBE_API, KubeAPI, create_app
from atomesh.devstack.serving import BackgroundServer

# Any token does without access control; with it, a token the server was started with.
ANY_TOKEN = "atomesh-dev-token"  # noqa: S105 - not a secret: the emulator without access control accepts any


def kubeconfig(
    url: str, namespace: str = "default", name: str = "atomesh-dev", token: str = ANY_TOKEN, ca_data: str | None = None
) -> dict[str, Any]:
    """A kubeconfig for `url`; `ca_data` (base64 PEM) is the CA of an https server."""
    cluster: dict[str, Any] = {"server": url}
    if ca_data is not None:
        cluster["certificate-authority-data"] = ca_data
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
        "preferences": {},
    }


def write_kubeconfig(url: str, path: Path, namespace: str = "default") -> Path:
    """Write a kubeconfig for `url` (context `atomesh-dev`, any token accepted) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig(url, namespace), sort_keys=False))
    return path


class KubeAPIServer(BackgroundServer):
    """The API server on a free loopback port in its own thread; a context manager."""

    def __init__(
        self, state_dir: Path | None = None, port: int = 0, tls: ssl.SSLContext | None = None, **options: Any
    ) -> None:
        async def factory() -> web.Application:
            return await create_app(state_dir, **options)

        super().__init__(factory, port=port, name="kube-api", tls=tls)

    @property
    def api(self) -> KubeAPI:
        assert self.app is not None, "the server is not started"
        return self.app[KUBE_API]
