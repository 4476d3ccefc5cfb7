"""The resources atomesh reads and writes, and their REST paths."""

from __future__ import annotations

from dataclasses import dataclass

from atomesh.api import constants as k


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    has_status: bool = False
    cluster_scoped: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str, name: str | None = None, subresource: str | None = None) -> str:
        """The REST path; an empty `namespace` without `name` is the collection across all namespaces."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.cluster_scoped:
            return f"{base}/{self.plural}" + (f"/{name}" if name is not None else "")
        if not namespace and name is None:
            return f"{base}/{self.plural}"
        path = f"{base}/namespaces/{namespace}/{self.plural}"
        if name is not None:
            path += f"/{name}"
            if subresource is not None:
                path += f"/{subresource}"
        return path


AGENTS = Resource(k.GROUP, k.VERSION, k.PLURAL_AGENTS, k.KIND_AGENT, has_status=True)
AGENT_RUNS = Resource(k.GROUP, k.VERSION, k.PLURAL_AGENT_RUNS, k.KIND_AGENT_RUN, has_status=True)
PODS = Resource("", "v1", "pods", "Pod")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
MESHES = Resource(k.GROUP, k.VERSION, k.PLURAL_MESHES, k.KIND_MESH, has_status=True)
CONTEXTS = Resource(k.GROUP, k.VERSION, k.PLURAL_CONTEXTS, k.KIND_CONTEXT, has_status=True)
BUDGETS = Resource(k.GROUP, k.VERSION, k.PLURAL_BUDGETS, k.KIND_BUDGET, has_status=True)
SECRETS = Resource("", "v1", "secrets", "Secret")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", cluster_scoped=True)
