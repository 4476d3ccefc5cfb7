"""The bare kopf peer: the least an operator does for an AgentRun — one pod per object, its status
patched once — with kopf's defaults and nothing of atomesh's (no admission, no cache, no status
conditions). bench/operator.py runs it side by side with atomesh on the same API server.

Run: `python -m bench.kopf_peer --kubeconfig FILE -n NAMESPACE`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import kopf

from atomesh.api import constants as k
from atomesh.controller.settings import connection_from_kubeconfig

IMAGE = "atomesh-test-runner:1"


def build_registry(kubeconfig: str) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return connection_from_kubeconfig(kubeconfig)

    @kopf.on.startup(registry=registry)
    def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False
        settings.watching.server_timeout = 300

    @kopf.on.create(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, registry=registry)
    def create_pod(*, name: str, namespace: str | None, body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{name}-runner", "labels": {k.LABEL_RUN: name, k.LABEL_COMPONENT: "runner"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": IMAGE}]},
        }
        kopf.adopt(pod, owner=body)
        api = kopf_api(kubeconfig)
        api.create_namespaced_pod(namespace or "default", pod)
        patch.status["phase"] = "Pending"

    return registry


_clients: dict[str, Any] = {}


def kopf_api(kubeconfig: str) -> Any:
    """One kubernetes client per kubeconfig (the peer's only API client besides kopf's own)."""
    import kubernetes

    if kubeconfig not in _clients:
        api_client = kubernetes.config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        _clients[kubeconfig] = kubernetes.client.CoreV1Api(api_client)
    return _clients[kubeconfig]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("-n", "--namespace", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    registry = build_registry(args.kubeconfig)
    asyncio.run(kopf.operator(registry=registry, standalone=True, namespaces=[args.namespace]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
