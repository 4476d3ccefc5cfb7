"""Which namespaces to read a kind in, when the identity may not list it across the cluster.

Kubernetes has no "namespaces I may see" API (OpenShift's projects are one; kubectl, Lens and Headlamp ask
the person for a list), so the console and `atomesh status` decide in this order:

1. the namespaces named with `-n/--namespace` (then nothing is listed across the cluster at all);
2. if the identity may list Namespaces, each one where a SelfSubjectAccessReview says it may both list
   and watch the kind (what `kubectl auth can-i list agentruns -n NS` asks), in name order;
3. otherwise the kubeconfig context's namespace, as kubectl does without `-n` (if the identity may read
   the kind there), with a note naming `-n`.

A namespace the identity may not read is never listed, so nothing of it can reach a page. The console
decides once, when it starts: a namespace created or a RoleBinding granted since shows after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from atomesh.kube.client import KubeError
from atomesh.kube.resources import Resource
from atomesh.kube.watch import KubeReader

NAMESPACES = Resource("", "v1", "namespaces", "Namespace")
FORBIDDEN = 403
INFORMER_VERBS = ("list", "watch")


@dataclass(frozen=True)
class Scopes:
    """The namespaces to read a kind in, and how they were found (for the page footer and warnings)."""

    namespaces: list[str]
    note: str


def readable_namespaces(reader: KubeReader, resource: Resource) -> Scopes:
    """The namespaces this identity may list and watch `resource` in (see the module docstring)."""
    try:
        items, _ = reader.list(NAMESPACES, None)
    except KubeError as exc:
        if exc.status != FORBIDDEN:
            raise
        namespace = reader.default_namespace
        if not _readable(reader, resource, namespace):
            return Scopes([], f"not readable in namespace {namespace} (the context's) either; name others with -n")
        return Scopes([namespace], f"reading namespace {namespace} (the context's); name others with -n")
    names = sorted(str((item.get("metadata") or {}).get("name") or "") for item in items)
    allowed = [name for name in names if name and _readable(reader, resource, name)]
    return Scopes(allowed, f"reading the namespaces where you may list and watch them: {', '.join(allowed) or 'none'}")


def _readable(reader: KubeReader, resource: Resource, namespace: str) -> bool:
    return all(reader.allowed(verb, resource, namespace) for verb in INFORMER_VERBS)
