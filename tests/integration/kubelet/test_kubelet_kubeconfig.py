"""The local kubelet's API client reaches an https API server with the credentials a kind or k3d
kubeconfig holds: the cluster CA, a client certificate the server verifies, a bearer token; and
refuses the kubeconfigs it cannot honour."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web

from atomesh.devstack.kubelet.apiclient import ApiClient
from atomesh.devstack.kubelet.kubeconfig import KubeconfigError, load_connection
from atomesh.devstack.serving import LOOPBACK

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

pytestmark = pytest.mark.integration


def issue(name: str, issuer: tuple[Any, Any] | None = None, *, ca: bool = False) -> tuple[Any, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_cert, signer_key = issuer if issuer else (None, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_cert.subject if signer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), False
        )
    return builder.sign(signer_key, hashes.SHA256()), key


def pem(cert: Any) -> bytes:
    return bytes(cert.public_bytes(serialization.Encoding.PEM))


def key_pem(key: Any) -> bytes:
    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig(path: Path, server: str, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "kind-test", "cluster": {"server": server, **cluster}}],
                "users": [{"name": "kind-test", "user": user}],
                "contexts": [{"name": "kind-test", "context": {"cluster": "kind-test", "user": "kind-test"}}],
                "current-context": "kind-test",
            }
        )
    )
    return path


async def serve_and_get(tmp_path: Path, cluster: dict[str, Any], user: dict[str, Any], ca: Any, server: Any) -> Any:
    """An https server that demands a client certificate signed by `ca`; GET /version through ApiClient."""
    (tmp_path / "server.crt").write_bytes(pem(server[0]))
    (tmp_path / "server.key").write_bytes(key_pem(server[1]))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "server.crt", tmp_path / "server.key")
    context.load_verify_locations(cadata=pem(ca[0]).decode())
    context.verify_mode = ssl.CERT_REQUIRED

    async def version(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(item[0] for item in (peer or {}).get("subject", ()))
        return web.json_response(
            {"gitVersion": "v1.37.0", "user": subject.get("commonName"), "auth": request.headers.get("Authorization")}
        )

    app = web.Application()
    app.router.add_get("/version", version)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        path = kubeconfig(tmp_path / "kubeconfig", f"https://{LOOPBACK}:{port}", cluster, user)
        connection = load_connection(path)
        client = ApiClient(connection.server, connection.token, connection.tls)
        try:
            return await client.request("GET", "/version")
        finally:
            await client.close()
    finally:
        await runner.cleanup()


def test_client_certificate_and_ca_data_as_kind_writes_them(tmp_path: Path) -> None:
    ca = issue("kubernetes", ca=True)
    server = issue("kube-apiserver", ca)
    client_cert = issue("kubernetes-admin", ca)
    cluster = {"certificate-authority-data": b64(pem(ca[0]))}
    user = {"client-certificate-data": b64(pem(client_cert[0])), "client-key-data": b64(key_pem(client_cert[1]))}
    answer = asyncio.run(serve_and_get(tmp_path, cluster, user, ca, server))
    assert answer["user"] == "kubernetes-admin"
    assert answer["auth"] is None


def test_ca_file_and_token_file(tmp_path: Path) -> None:
    ca = issue("kubernetes", ca=True)
    server = issue("kube-apiserver", ca)
    client_cert = issue("kubernetes-admin", ca)
    (tmp_path / "ca.crt").write_bytes(pem(ca[0]))
    (tmp_path / "token").write_text("s3cr3t\n")
    (tmp_path / "client.crt").write_bytes(pem(client_cert[0]))
    (tmp_path / "client.key").write_bytes(key_pem(client_cert[1]))
    cluster = {"certificate-authority": "ca.crt"}
    user = {"tokenFile": "token", "client-certificate": "client.crt", "client-key": str(tmp_path / "client.key")}
    answer = asyncio.run(serve_and_get(tmp_path, cluster, user, ca, server))
    assert answer["auth"] == "Bearer s3cr3t"


def test_a_server_outside_the_ca_is_refused(tmp_path: Path) -> None:
    ca, other = issue("kubernetes", ca=True), issue("someone-else", ca=True)
    server = issue("kube-apiserver", other)  # the server would accept our client; we must not trust it
    client_cert = issue("kubernetes-admin", ca)
    cluster = {"certificate-authority-data": b64(pem(ca[0]))}
    user = {"client-certificate-data": b64(pem(client_cert[0])), "client-key-data": b64(key_pem(client_cert[1]))}
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        asyncio.run(serve_and_get(tmp_path, cluster, user, ca, server))


@pytest.mark.parametrize(
    ("cluster", "user", "message"),
    [
        ({}, {"exec": {"command": "aws"}}, "uses exec, which the local kubelet does not support"),
        ({}, {"auth-provider": {"name": "oidc"}}, "uses auth-provider"),
        ({}, {"username": "u", "password": "p"}, "uses username"),
        ({"tls-server-name": "x"}, {}, "uses tls-server-name"),
        ({}, {"client-certificate-data": b64(b"x")}, "client-certificate and client-key go together"),
        ({"certificate-authority-data": "%%%"}, {}, "certificate-authority-data is not base64"),
        ({"certificate-authority": "missing.crt"}, {}, "certificate-authority missing.crt"),
    ],
)
def test_what_the_kubelet_cannot_use_is_refused_by_name(
    tmp_path: Path, cluster: dict[str, Any], user: dict[str, Any], message: str
) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", cluster, user)
    with pytest.raises(KubeconfigError, match=message):
        load_connection(path)


def test_plain_http_with_a_token_and_the_context_namespace(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:8080", {}, {"token": "t"})
    connection = load_connection(path)
    assert (connection.server, connection.token, connection.tls, connection.namespace) == (
        "http://127.0.0.1:8080",
        "t",
        None,
        "default",
    )
