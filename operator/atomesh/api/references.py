"""References across namespaces, and the rule the referenced object declares about them.

The referenced object decides who may use it (Gateway API's `allowedRoutes.namespaces` and kagent's
`allowedNamespaces`): `spec.allowedNamespaces.from` is `Same` (the default: only objects of its own
namespace), `All`, or `Selector` (namespaces whose labels match). A reference from a namespace the
target does not allow is refused with the reason RefNotPermitted, naming the rule.

Which references may cross a namespace: an Agent's `spec.context.refs` (Contexts in git). Every other
reference is local by its schema (no `namespace` field): `spec.agentRef` of an AgentRun, `agentRef` of a
Mesh node, `spec.context.names`, a Budget's selector, and every Secret reference — a pod can only use
Secrets of its own namespace, and the operator never copies one.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from atomesh.api.common import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, SpecModel

NamespacesFrom = Literal["Same", "All", "Selector"]


class NamespaceSelector(SpecModel):
    """Namespaces by their labels (matchLabels; `kubernetes.io/metadata.name` names one namespace)."""

    match_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels a Namespace must all carry (none: every namespace matches)."
    )

    def matches(self, labels: dict[str, str]) -> bool:
        return all(labels.get(key) == value for key, value in self.match_labels.items())


class AllowedNamespaces(SpecModel):
    """Which namespaces may reference this object."""

    from_: NamespacesFrom = Field(
        default="Same",
        alias="from",
        description=(
            "Same: only objects in this namespace (the default); All: every namespace; Selector: namespaces whose "
            "labels match `selector`."
        ),
    )
    # Required with Selector by the CRD's CEL rule (api/rules.py) and by lint; ignored with Same and All
    # (as Gateway API's). Without one, Selector allows no other namespace.
    selector: NamespaceSelector | None = Field(
        default=None, description="The namespaces allowed when `from` is Selector (required then, ignored otherwise)."
    )


class ContextReference(SpecModel):
    """A Context in another namespace, which must allow the Agent's namespace in its `spec.allowedNamespaces`."""

    name: str = Field(min_length=1, max_length=253, pattern=DNS_SUBDOMAIN_PATTERN, description="Name of the Context.")
    namespace: str = Field(
        min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN, description="Namespace of the Context."
    )


__all__ = ["AllowedNamespaces", "ContextReference", "NamespaceSelector", "NamespacesFrom"]
