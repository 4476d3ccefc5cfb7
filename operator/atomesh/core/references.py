"""Whether an object in another namespace may be referenced: the rule its owner declared.

Pure. Invariants:

- A reference within one namespace is always allowed; across namespaces the target's
  `spec.allowedNamespaces` decides, and without one only its own namespace may use it (Same).
- `Selector` matches the labels of the referencing namespace; unknown labels (the Namespace could not
  be read) match no selector, so a doubt refuses.
- A refusal is a message that names the target, the referencing namespace and the rule, and says what
  the target's owner would change; never the target's content.
"""

from __future__ import annotations

from collections.abc import Mapping

from atomesh.api.references import AllowedNamespaces

SHARED_CONFIGMAP = (
    "it cannot be used from another namespace (a pod mounts ConfigMaps of its own namespace only); publish it "
    "in git, or copy it into this namespace"
)


def describe_rule(allowed: AllowedNamespaces | None) -> str:
    """The rule in words, as the target's manifest spells it."""
    if allowed is None:
        return "it sets no spec.allowedNamespaces, so only its own namespace may use it (from: Same)"
    if allowed.from_ == "Selector" and allowed.selector is None:
        return "its spec.allowedNamespaces is from: Selector without a selector, which allows no other namespace"
    if allowed.from_ == "Selector" and allowed.selector is not None:
        labels = ",".join(f"{key}={value}" for key, value in sorted(allowed.selector.match_labels.items()))
        return f"its spec.allowedNamespaces is from: Selector with matchLabels {labels}"
    return f"its spec.allowedNamespaces is from: {allowed.from_}"


def reference_refusal(
    allowed: AllowedNamespaces | None,
    *,
    target: str,
    target_namespace: str,
    from_namespace: str,
    from_labels: Mapping[str, str] | None,
) -> str | None:
    """None when `from_namespace` may reference `target` (e.g. "Context platform/handbook"), else why not.
    `from_labels` are the referencing namespace's labels (None: unknown)."""
    if from_namespace == target_namespace:
        return None
    if allowed is not None and allowed.from_ == "All":
        return None
    selector = allowed.selector if allowed is not None and allowed.from_ == "Selector" else None
    if selector is not None and from_labels is not None and selector.matches(dict(from_labels)):
        return None
    unknown = ""
    if allowed is not None and allowed.from_ == "Selector" and from_labels is None:
        unknown = f" (the labels of namespace {from_namespace} could not be read)"
    return (
        f"{target} does not allow references from namespace {from_namespace}: {describe_rule(allowed)}{unknown}; "
        f"its owner may allow it with spec.allowedNamespaces (from: All, or from: Selector matching namespace "
        f"{from_namespace})"
    )
