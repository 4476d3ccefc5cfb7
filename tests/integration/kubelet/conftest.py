"""A local kubelet per test, scoped to a fresh namespace of the shared API server emulator,
and the real kubernetes client and kubectl to talk to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from tests.integration.kubelet.helpers import PodEnv

from atomesh.devstack.kube import set_log_source
from atomesh.devstack.kubelet import BackgroundKubelet, KubeletConfig
from atomesh.devstack.kubelet.logsource import HttpLogSource


@pytest.fixture
def pod_env(kube_api: Any, tmp_path: Path) -> Iterator[PodEnv]:
    api_client = config.new_client_from_config(config_file=str(kube_api.kubeconfig))
    core = client.CoreV1Api(api_client)
    namespace = f"kubelet-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": namespace}})
    root = tmp_path / "kubelet"
    kubelet_config = KubeletConfig(
        server=kube_api.url,
        root_dir=root,
        namespace=namespace,
        retry_interval=0.2,
        host_env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "ATOMESH_HOST_ONLY": "must-not-leak"},
    )
    try:
        with BackgroundKubelet(kubelet_config) as kubelet:
            # The API server proxies pods/log to this test's kubelet, as it would to a node's.
            set_log_source(kube_api.app, HttpLogSource(kubelet.url))
            try:
                yield PodEnv(namespace, core, kubelet, root, Path(kube_api.kubeconfig))
            finally:
                set_log_source(kube_api.app, None)
    finally:
        core.delete_namespace(namespace)
        api_client.close()
