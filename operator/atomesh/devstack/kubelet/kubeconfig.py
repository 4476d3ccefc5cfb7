"""How the local kubelet reaches an API server named by a kubeconfig (a kind, k3d or real cluster).

Supported, as client-go reads them (`k8s.io/client-go/tools/clientcmd/api/v1/types.go`): the current
context or a named one; `server` over http or https; `certificate-authority` (a file, relative to
the kubeconfig) or `certificate-authority-data`; `insecure-skip-tls-verify`; `client-certificate` /
`client-key` (files or `-data`); `token` or `tokenFile`. That covers the admin kubeconfigs kind and
k3d write. What the kubelet cannot honour — `exec` and `auth-provider` plugins, basic auth,
`tls-server-name`, `proxy-url` — is refused with a KubeconfigError naming the field, never ignored.
"""

from __future__ import annotations

import base64
import binascii
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

UNSUPPORTED_USER = ("exec", "auth-provider", "username", "password")
UNSUPPORTED_CLUSTER = ("tls-server-name", "proxy-url")


class KubeconfigError(ValueError):
    """A kubeconfig the local kubelet cannot use; the message names the file and the field."""


@dataclass(frozen=True)
class Connection:
    server: str
    token: str | None
    tls: ssl.SSLContext | None
    namespace: str


def _named(config: dict[str, Any], section: str, name: str, path: Path) -> dict[str, Any]:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            body = entry.get(section[:-1])
            return body if isinstance(body, dict) else {}
    raise KubeconfigError(f"{path}: no {section[:-1]} named {name!r}")


def _pem(block: dict[str, Any], key: str, base: Path, path: Path) -> bytes | None:
    """`key-data` (base64) or the file `key` names (relative to the kubeconfig)."""
    data = block.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KubeconfigError(f"{path}: {key}-data is not base64: {exc}") from exc
    name = block.get(key)
    if name:
        file = Path(os.path.expanduser(str(name)))
        try:
            return (file if file.is_absolute() else base / file).read_bytes()
        except OSError as exc:
            raise KubeconfigError(f"{path}: {key} {name}: {exc.strerror}") from exc
    return None


def _tls(cluster: dict[str, Any], user: dict[str, Any], base: Path, path: Path) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        ca = _pem(cluster, "certificate-authority", base, path)
        if ca is not None:
            try:
                context.load_verify_locations(cadata=ca.decode("ascii"))
            except (ssl.SSLError, UnicodeDecodeError) as exc:
                raise KubeconfigError(f"{path}: the certificate authority is not a PEM certificate: {exc}") from exc
    cert = _pem(user, "client-certificate", base, path)
    key = _pem(user, "client-key", base, path)
    if (cert is None) != (key is None):
        raise KubeconfigError(f"{path}: client-certificate and client-key go together; one is missing")
    if cert is not None and key is not None:
        # ssl loads a certificate chain only from files: private ones, removed at once.
        with tempfile.TemporaryDirectory(prefix="atomesh-kubelet-tls-") as directory:
            cert_file, key_file = Path(directory) / "client.crt", Path(directory) / "client.key"
            for file, content in ((cert_file, cert), (key_file, key)):
                file.touch(mode=0o600)
                file.write_bytes(content)
            try:
                context.load_cert_chain(cert_file, key_file)
            except ssl.SSLError as exc:
                raise KubeconfigError(f"{path}: the client certificate or key is not usable: {exc}") from exc
    return context


def load_connection(path: Path, context: str | None = None) -> Connection:
    """The server, credentials and namespace of `context` (default: the current one) in `path`."""
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KubeconfigError(f"{path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise KubeconfigError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(config, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig")
    name = context or config.get("current-context")
    if not name:
        raise KubeconfigError(f"{path}: no current-context; name one")
    ctx = _named(config, "contexts", str(name), path)
    cluster = _named(config, "clusters", str(ctx.get("cluster")), path)
    user = _named(config, "users", str(ctx.get("user")), path) if ctx.get("user") else {}
    for field in UNSUPPORTED_USER:
        if user.get(field):
            raise KubeconfigError(
                f"{path}: user {ctx.get('user')!r} uses {field}, which the local kubelet does not support; "
                "use a kubeconfig with a client certificate or a token (kind and k3d write one)"
            )
    for field in UNSUPPORTED_CLUSTER:
        if cluster.get(field):
            raise KubeconfigError(f"{path}: cluster {ctx.get('cluster')!r} uses {field}, which is not supported")
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise KubeconfigError(f"{path}: cluster {ctx.get('cluster')!r} has no http(s) server")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token_path = Path(os.path.expanduser(str(user["tokenFile"])))
        try:
            token = (token_path if token_path.is_absolute() else path.parent / token_path).read_text().strip()
        except OSError as exc:
            raise KubeconfigError(f"{path}: tokenFile {user['tokenFile']}: {exc.strerror}") from exc
    tls = _tls(cluster, user, path.parent, path) if server.startswith("https://") else None
    return Connection(server, str(token) if token else None, tls, str(ctx.get("namespace") or "default"))
