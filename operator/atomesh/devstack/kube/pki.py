"""The cluster's certificates, as kubeadm makes them: one CA that signs the API server's serving
certificate (for 127.0.0.1 and localhost) and client certificates whose Common Name is the user and
whose Organizations are the groups (kube-apiserver's x509 authenticator reads them so).

kubectl sends bearer tokens only over TLS (kubernetes/kubectl#744), so an API server that
authenticates must serve https; its CA goes into each kubeconfig (`certificate-authority-data`).
Keys are ECDSA P-256 and live in memory only: a restarted stack has a new CA and new kubeconfigs.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)


@dataclass(frozen=True)
class KeyPair:
    certificate_pem: bytes
    key_pem: bytes

    def kubeconfig_user(self) -> dict[str, str]:
        return {
            "client-certificate-data": base64.b64encode(self.certificate_pem).decode(),
            "client-key-data": base64.b64encode(self.key_pem).decode(),
        }


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class ClusterPKI:
    def __init__(self) -> None:
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
        self._ca = (
            self._builder(name, self._ca_key.public_key(), name)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(self._ca_key, hashes.SHA256())
        )
        self.ca_pem = self._ca.public_bytes(serialization.Encoding.PEM)
        self.serving = self._issue(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
            ExtendedKeyUsageOID.SERVER_AUTH,
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        )

    def _builder(self, subject: x509.Name, public_key: Any, issuer: x509.Name) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
        )

    def _issue(self, subject: x509.Name, usage: x509.ObjectIdentifier, names: list[x509.GeneralName]) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            self._builder(subject, key.public_key(), self._ca.subject)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(self._ca_key, hashes.SHA256())
        return KeyPair(certificate.public_bytes(serialization.Encoding.PEM), _key_pem(key))

    def client(self, user: str, groups: tuple[str, ...] = ()) -> KeyPair:
        """A client certificate for `user` in `groups` (CN and O, as kubeadm's admin.conf has them)."""
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        return self._issue(x509.Name(attributes), ExtendedKeyUsageOID.CLIENT_AUTH, [])

    @property
    def ca_data(self) -> str:
        """The CA for a kubeconfig's `certificate-authority-data`."""
        return base64.b64encode(self.ca_pem).decode()

    def server_context(self) -> ssl.SSLContext:
        """TLS for the API server: its serving certificate, and client certificates verified against
        the CA when presented (a client without one falls through to tokens, as in kube)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        with tempfile.TemporaryDirectory() as directory:
            cert, key = Path(directory) / "tls.crt", Path(directory) / "tls.key"
            cert.write_bytes(self.serving.certificate_pem)
            key.write_bytes(self.serving.key_pem)
            cert.chmod(0o600)
            key.chmod(0o600)
            context.load_cert_chain(cert, key)
        context.load_verify_locations(cadata=self.ca_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def client_context(self) -> ssl.SSLContext:
        """TLS for a client of the API server: trusts this CA only."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def user_from_peercert(peercert: Any) -> tuple[str, tuple[str, ...]] | None:
    """(CN, Organizations) of a verified client certificate as `ssl` decodes it; None without one."""
    if not isinstance(peercert, dict) or not peercert.get("subject"):
        return None
    common_name, organizations = "", []
    for rdn in peercert["subject"]:
        for key, value in rdn:
            if key == "commonName":
                common_name = str(value)
            elif key == "organizationName":
                organizations.append(str(value))
    return (common_name, tuple(organizations)) if common_name else None
