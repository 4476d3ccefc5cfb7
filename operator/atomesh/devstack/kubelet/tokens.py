"""ServiceAccount token projection, as the kubelet's token manager does it.

A projected volume's `serviceAccountToken` source is filled with a token the kubelet requests through
the TokenRequest API (`POST .../serviceaccounts/<name>/token`) for the pod's own ServiceAccount
(`spec.serviceAccountName`, in the pod's namespace), bound to the pod (`boundObjectRef`) with the
source's audience and expiry. Never another account's: the pod names the account, and a pod can only
name one of its own namespace. A missing ServiceAccount keeps the pod Pending (FailedMount), retried.
Not emulated: rotation (the kubelet's refresh at 80% of the lifetime); a run outlives no token here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from atomesh.devstack.kubelet.apiclient import ApiClient, ApiStatusError

SERVICE_ACCOUNT_TOKEN = "ServiceAccountToken"  # noqa: S105 - a kind, not a password
# kube-apiserver's default for a projection without expirationSeconds (the API's own default).
DEFAULT_EXPIRATION_SECONDS = 3600


def token_key(source: Mapping[str, Any]) -> str:
    """What tells two projections' tokens apart: audience and expiry."""
    return f"{source.get('audience', '')}|{int(source.get('expirationSeconds') or DEFAULT_EXPIRATION_SECONDS)}"


def token_sources(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "serviceAccountToken" in source:
                yield source["serviceAccountToken"]


def service_account_of(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("serviceAccountName") or "default")


async def fetch_tokens(api: ApiClient, pod: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, bytes]]:
    """(SERVICE_ACCOUNT_TOKEN, token_key) -> {"token": ...} for each projection; none when the account is missing."""
    meta = pod.get("metadata") or {}
    namespace, account = meta.get("namespace", ""), service_account_of(pod)
    tokens: dict[tuple[str, str], dict[str, bytes]] = {}
    for source in token_sources(pod):
        key = token_key(source)
        if (SERVICE_ACCOUNT_TOKEN, key) in tokens:
            continue
        spec = {
            "audiences": [source["audience"]] if source.get("audience") else [],
            "expirationSeconds": int(source.get("expirationSeconds") or DEFAULT_EXPIRATION_SECONDS),
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta.get("name"), "uid": meta.get("uid")},
        }
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
        try:
            answer = await api.request("POST", path, {"apiVersion": "authentication.k8s.io/v1", "spec": spec})
        except ApiStatusError as exc:
            if exc.code == 404:
                continue  # the volume reports it (FailedMount) and the pod is retried
            raise
        tokens[(SERVICE_ACCOUNT_TOKEN, key)] = {"token": str(answer["status"]["token"]).encode()}
    return tokens


def token_missing(volume_name: str, pod: Mapping[str, Any]) -> str:
    """The kubelet's message when the pod's ServiceAccount cannot give a token."""
    return (
        f'MountVolume.SetUp failed for volume "{volume_name}" : failed to fetch token: serviceaccounts '
        f'"{service_account_of(pod)}" not found'
    )
