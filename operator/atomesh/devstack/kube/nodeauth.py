"""The Node authorizer (`plugin/pkg/auth/authorizer/node/node_authorizer.go`) and the part of the
NodeRestriction admission plugin (`plugin/pkg/admission/noderestriction`) a kubelet meets here.

A node is a user `system:node:<name>` in the group `system:nodes`. Its requests are decided here first
(`--authorization-mode=Node,RBAC`); "no opinion" falls through to RBAC, where no binding grants nodes
anything (the `system:node` ClusterRoleBinding has no subjects, as in clusters since 1.8):

- Secrets and ConfigMaps: get/list/watch of one named object (a list/watch names it with the
  `metadata.name` field selector) referenced by a pod bound to the node: volumes (also projected),
  env, envFrom, imagePullSecrets. Anything else: "no relationship found between node '<name>' and
  this object".
- ServiceAccounts: only `create` of the `token` subresource, for the account of a pod bound to the node.
- Leases: get/create/update/patch/delete in `kube-node-lease`, only the lease named as the node.
- Everything else: the static node rules (the `system:node` ClusterRole's, kube's `NodeRules()`).

NodeRestriction (admission: it refuses what the authorisers allowed, with its own 403): a node writes only
its own Node and Lease, updates or patches the status of, and deletes, only pods bound to it, and creates
no pod (kube allows mirror pods, which the local kubelet never makes: refused naming them).

Not emulated: persistent volumes and claims, ResourceClaims/Slices, CSINodes and VolumeAttachments
(this API server serves none of them, so a node's request for one is refused); the node's configSource
ConfigMap edge; the field-selector scoping of pod and node lists (AuthorizeNodeWithSelectors): a node
lists pods and nodes as before that gate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from atomesh.devstack.kube.errors import ApiError
from atomesh.devstack.kube.rbac_eval import Attributes, Rule, UserInfo, rule_allows
from atomesh.devstack.kube.store import Store

NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
NODE_LEASE_NAMESPACE = "kube-node-lease"
PODS, NODES, SECRETS, CONFIGMAPS = ("", "pods"), ("", "nodes"), ("", "secrets"), ("", "configmaps")
SERVICE_ACCOUNTS, LEASES = ("", "serviceaccounts"), ("coordination.k8s.io", "leases")
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
Obj = dict[str, Any]


def node_identity(user: UserInfo | None) -> tuple[str, bool]:
    """kube's `nodeidentifier.NodeIdentity`: (node name, is a node); a name only with the group and prefix."""
    if user is None or NODES_GROUP not in user.groups or not user.name.startswith(NODE_USER_PREFIX):
        return "", False
    return user.name[len(NODE_USER_PREFIX) :], True


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from spec.get(key) or []


def pod_references(pod: Mapping[str, Any], gr: tuple[str, str]) -> set[str]:
    """Names of the Secrets, ConfigMaps or the ServiceAccount (by `gr`) a pod refers to: its graph edges."""
    spec = pod.get("spec") or {}
    if gr == SERVICE_ACCOUNTS:
        return {str(spec.get("serviceAccountName") or "default")}
    secret = gr == SECRETS
    names: set[str] = set()
    for volume in spec.get("volumes") or []:
        if secret and "secret" in volume:
            names.add(volume["secret"].get("secretName", ""))
        if not secret and "configMap" in volume:
            names.add(volume["configMap"].get("name", ""))
        for source in (volume.get("projected") or {}).get("sources") or []:
            key = "secret" if secret else "configMap"
            if key in source:
                names.add(source[key].get("name", ""))
    for container in _containers(spec):
        for env_from in container.get("envFrom") or []:
            ref = env_from.get("secretRef" if secret else "configMapRef")
            if ref:
                names.add(ref.get("name", ""))
        for env in container.get("env") or []:
            ref = (env.get("valueFrom") or {}).get("secretKeyRef" if secret else "configMapKeyRef")
            if ref:
                names.add(ref.get("name", ""))
    if secret:
        names.update(ref.get("name", "") for ref in spec.get("imagePullSecrets") or [])
    names.discard("")
    return names


class NodeAuthorizer:
    """Decides node requests: (allowed, reason); not allowed is "no opinion" (RBAC decides next)."""

    def __init__(self, store: Store, node_rules: list[Rule]) -> None:
        self.store = store
        self.node_rules = node_rules

    def authorize(self, attributes: Attributes) -> tuple[bool, str] | None:
        """None when the request is not a node's; else the node authorizer's decision and reason."""
        node, is_node = node_identity(attributes.user)
        if not is_node:
            return None
        if not node:
            return False, f'unknown node for user "{attributes.user.name}"'
        gr = (attributes.api_group, attributes.resource)
        if attributes.resource_request:
            if gr in (SECRETS, CONFIGMAPS):
                return self._read_referenced(node, gr, attributes)
            if gr == SERVICE_ACCOUNTS:
                return self._create_token(node, attributes)
            if gr == LEASES:
                return _lease(node, attributes)
        if any(rule_allows(attributes, rule) for rule in self.node_rules):
            return True, ""
        return False, ""

    def _bound_pods(self, node: str, namespace: str) -> Iterator[Mapping[str, Any]]:
        for stored in self.store.iter(PODS, namespace):
            if (stored.obj.get("spec") or {}).get("nodeName") == node:
                yield stored.obj

    def _related(self, node: str, gr: tuple[str, str], namespace: str, name: str) -> bool:
        return any(name in pod_references(pod, gr) for pod in self._bound_pods(node, namespace))

    def _read_referenced(self, node: str, gr: tuple[str, str], attributes: Attributes) -> tuple[bool, str]:
        if attributes.verb not in ("get", "list", "watch"):
            return False, "can only read resources of this type"
        if attributes.subresource:
            return False, "cannot read subresource"
        if not attributes.namespace:
            return False, "can only read namespaced object of this type"
        if not attributes.name:
            return False, "No Object name found"
        if not self._related(node, gr, attributes.namespace, attributes.name):
            return False, f"no relationship found between node '{node}' and this object"
        return True, ""

    def _create_token(self, node: str, attributes: Attributes) -> tuple[bool, str]:
        if attributes.verb != "create" or not attributes.name:
            return False, "can only create tokens for individual service accounts"
        if attributes.subresource != "token":
            return False, "can only create token subresource of serviceaccount"
        if not self._related(node, SERVICE_ACCOUNTS, attributes.namespace, attributes.name):
            return False, f"no relationship found between node '{node}' and this object"
        return True, ""


def _lease(node: str, attributes: Attributes) -> tuple[bool, str]:
    if attributes.verb not in ("get", "create", "update", "patch", "delete"):
        return False, "can only get, create, update, patch, or delete a node lease"
    if attributes.namespace != NODE_LEASE_NAMESPACE:
        return False, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace'
    if attributes.verb != "create" and attributes.name != node:
        return False, "can only access node lease with the same name as the requesting node"
    return True, ""


def restrict(store: Store, attributes: Attributes) -> None:
    """NodeRestriction on an authorised node request, for what the request names: the 403 it answers
    when a node modifies another Node, or the status of, or deletes, a pod bound to another node."""
    node, is_node = node_identity(attributes.user)
    if not is_node or not attributes.resource_request or not attributes.name:
        return
    gr, name = (attributes.api_group, attributes.resource), attributes.name
    if gr == NODES and attributes.verb in ("update", "patch", "delete") and name != node:
        raise _forbidden("nodes", name, f'node "{node}" is not allowed to modify node "{name}"')
    if gr != PODS:
        return
    status_write = attributes.subresource == "status" and attributes.verb in ("update", "patch")
    if not (status_write or (attributes.verb == "delete" and not attributes.subresource)):
        return
    stored = store.get(PODS, attributes.namespace, name)
    if stored is None or (stored.obj.get("spec") or {}).get("nodeName") == node:
        return  # a missing pod answers 404 as it would
    what = "update pod status for" if status_write else "delete"
    raise _forbidden("pods", name, f'node "{node}" can only {what} pods with spec.nodeName set to itself')


def admit(user: UserInfo | None, gr: tuple[str, str], obj: Obj) -> None:
    """NodeRestriction on a node's create or update of `obj` (what the authorizer could not see: the body)."""
    node, is_node = node_identity(user)
    if not is_node:
        return
    meta = obj.get("metadata") or {}
    name = str(meta.get("name", ""))
    if gr == NODES and name != node:
        raise _forbidden("nodes", name, f'node "{node}" is not allowed to modify node "{name}"')
    if gr == LEASES and name != node:
        raise _forbidden("leases.coordination.k8s.io", name, f'node "{node}" can only create or update its own lease')
    if gr == PODS:
        bound = (obj.get("spec") or {}).get("nodeName")
        if "resourceVersion" not in meta and MIRROR_POD_ANNOTATION not in (meta.get("annotations") or {}):
            raise _forbidden(
                "pods",
                name,
                f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, node "{node}" can only create mirror pods',
            )
        if bound != node:
            message = f'node "{node}" can only update pods with spec.nodeName set to itself'  # noqa: S608 - not SQL
            raise _forbidden("pods", name, message)


def _forbidden(qualified: str, name: str, message: str) -> ApiError:
    return ApiError(403, f'{qualified} "{name}" is forbidden: {message}', "Forbidden", name=name or None)
