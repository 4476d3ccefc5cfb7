"""Joining an API server that speaks TLS and authenticates clients by certificate, as kind's does:
the emulator served over https with client-certificate verification, `JoinedCluster` installing the
CRDs through a kind-style kubeconfig, and the local kubelet registering its Node and Lease there."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tests.integration.kubelet.test_kubelet_kubeconfig import b64, issue, key_pem, kubeconfig, pem

from atomesh.devstack.joined import JoinedCluster
from atomesh.devstack.kube import KUBE_API, create_app
from atomesh.devstack.kubelet import Kubelet, KubeletConfig
from atomesh.devstack.kubelet.nodestatus import LOCAL_RUNNER_LABELS, LOCAL_RUNNER_TAINTS
from atomesh.devstack.serving import LOOPBACK
from atomesh.devstack.stack import load_crds

pytestmark = pytest.mark.integration


async def join_over_tls(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    ca = issue("kubernetes", ca=True)
    server, admin = issue("kube-apiserver", ca), issue("kubernetes-admin", ca)
    (tmp_path / "server.crt").write_bytes(pem(server[0]))
    (tmp_path / "server.key").write_bytes(key_pem(server[1]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    context.load_verify_locations(cadata=pem(ca[0]).decode())
    context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    app = await create_app()
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    kubelet: Kubelet | None = None
    try:
        path = kubeconfig(
            tmp_path / "kind.kubeconfig",
            f"https://{LOOPBACK}:{port}",
            {"certificate-authority-data": b64(pem(ca[0]))},
            {"client-certificate-data": b64(pem(admin[0])), "client-key-data": b64(key_pem(admin[1]))},
        )
        joined = JoinedCluster(path, crds=load_crds(None))
        await joined.start()
        kubelet = Kubelet(
            KubeletConfig(
                server=joined.url,
                token=joined.token,
                tls=joined.tls,
                root_dir=tmp_path / "kubelet",
                node_name="atomesh-local-tls",
                node_labels=LOCAL_RUNNER_LABELS,
                node_taints=LOCAL_RUNNER_TAINTS,
            )
        )
        await kubelet.start()
        await kubelet.wait_synced()
        store = app[KUBE_API].store
        node = store.get(("", "nodes"), "", "atomesh-local-tls")
        lease = store.get(("coordination.k8s.io", "leases"), "kube-node-lease", "atomesh-local-tls")
        crds = sorted(
            s.obj["metadata"]["name"] for s in store.iter(("apiextensions.k8s.io", "customresourcedefinitions"), None)
        )
        assert node is not None
        return node.obj, lease.obj if lease else None, crds
    finally:
        if kubelet is not None:
            await kubelet.stop()
        await runner.cleanup()


def test_join_with_client_certificates_installs_crds_and_registers_the_node(tmp_path: Path) -> None:
    node, lease, crds = asyncio.run(join_over_tls(tmp_path))
    assert crds == sorted(crd["metadata"]["name"] for crd in load_crds(None))  # every CRD atomesh ships
    assert "agentruns.atomesh.io" in crds
    assert node["metadata"]["labels"]["atomesh.io/local-runner"] == "true"
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
    assert lease is not None
    assert lease["spec"]["holderIdentity"] == "atomesh-local-tls"
