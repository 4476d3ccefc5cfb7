"""kopf settings: bookkeeping in `atomesh.io/` annotations (never our status), our finalizer,
explicit Events only, peering, and connection to the configured cluster."""

from __future__ import annotations

from typing import Any

import kopf
import kubernetes

from atomesh.api import constants as k


def configure(settings: kopf.OperatorSettings, *, peering: str | None, standalone: bool) -> None:
    settings.persistence.finalizer = k.FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=k.ANNOTATION_KOPF_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=k.ANNOTATION_KOPF_PREFIX, key="last-handled-configuration"
    )
    # atomesh posts its Events itself, correlated (`controller.events`); kopf posts none.
    settings.posting.enabled = False
    # Pod events arrive in bursts (one per container transition); a short window keeps latency low.
    settings.batching.batch_window = 0.02
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 30
    settings.execution.max_workers = 16
    settings.peering.standalone = standalone
    if peering:
        settings.peering.name = peering
        settings.peering.mandatory = True


def connection_from_kubeconfig(path: str | None, context: str | None = None) -> kopf.ConnectionInfo:
    """kopf's connection from a kubeconfig file (or the in-cluster service account without one)."""
    config = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_kube_config(config_file=path, context=context, client_configuration=config)  # type: ignore[no-untyped-call]
    except kubernetes.config.ConfigException:
        if path is not None:
            raise
        kubernetes.config.load_incluster_config(client_configuration=config)  # type: ignore[no-untyped-call]
    token: Any = (config.api_key or {}).get("authorization") or (config.api_key or {}).get("BearerToken")
    if isinstance(token, str) and token.lower().startswith("bearer "):
        token = token[7:]
    return kopf.ConnectionInfo(
        server=str(config.host),
        token=token or None,
        insecure=not config.verify_ssl,
        ca_path=config.ssl_ca_cert,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
        default_namespace=None,
    )
