"""Pure: whether an unassigned pod may be placed on the local kubelet's Node.

A real kubelet never picks pods: kube-scheduler binds them, and the kubelet runs what is bound to
its node. The emulator runs no scheduler, so the local kubelet binds the pods it would be chosen for
itself (through `pods/binding`, which lets exactly one binder win when a real scheduler is there too).
It applies the scheduler's two filters that decide placement on a tainted, labelled Node:

- TaintToleration: every NoSchedule and NoExecute taint must be tolerated; toleration matching as
  `ToleratesTaint` in `staging/src/k8s.io/api/core/v1/toleration.go` (empty key with Exists matches
  every key, empty effect every effect, operator Exists ignores the value, Equal — the default —
  compares it).
- NodeAffinity's `nodeSelector` part: every key must be a label of the Node with that value.

Required nodeAffinity terms are refused rather than guessed: a pod with them is left to a scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SCHEDULING_EFFECTS = ("NoSchedule", "NoExecute")


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    if operator != "Equal" or not key:
        return False  # an empty key needs Exists; unknown operators never match
    return str(toleration.get("value") or "") == str(taint.get("value") or "")


def fits(pod_spec: Mapping[str, Any], labels: Mapping[str, str], taints: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the scheduler's taint and nodeSelector filters let `pod_spec` onto this Node."""
    tolerations = [t for t in pod_spec.get("tolerations") or [] if isinstance(t, Mapping)]
    for taint in taints:
        if taint.get("effect") in SCHEDULING_EFFECTS and not any(tolerates(t, taint) for t in tolerations):
            return False
    selector = pod_spec.get("nodeSelector") or {}
    if any(labels.get(str(key)) != str(value) for key, value in selector.items()):
        return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    return not required
