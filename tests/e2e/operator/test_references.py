"""A Context shared across namespaces, on the development stack with the chart's RBAC: a team's Agent that
names another namespace's Context is refused (RefNotPermitted, naming the rule) until that Context allows
the team's namespace, and refused again when the Context's owner withdraws it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from atomesh.kube.resources import AGENTS, CONTEXTS
from tests.e2e.operator.conftest import Stack, agent_manifest, make_namespace

pytestmark = pytest.mark.e2e


def handbook_repo(root: Path) -> Path:
    repo = root / "handbook"
    (repo / "style").mkdir(parents=True)
    (repo / "style" / "voice.md").write_text("Write plainly.\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "handbook"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo, check=True, timeout=30
        )
    return repo


def ready(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})


def test_a_shared_context_is_used_only_while_it_allows_the_namespace(stack: Stack, tmp_path: Path) -> None:
    platform = f"{stack.namespace[:50]}-pl"
    make_namespace(stack.kube_api, platform)
    owner = Stack(stack.kube_api, stack.kube, platform)
    context: dict[str, Any] = {
        "apiVersion": "atomesh.io/v1alpha1",
        "kind": "Context",
        "metadata": {"name": "handbook", "namespace": platform},
        "spec": {"git": {"repo": str(handbook_repo(tmp_path)), "ref": "main", "path": "style"}},
    }
    owner.apply(context)
    stack.wait_for(
        "the shared Context to be Ready",
        lambda: (
            ready((stack.kube.get(CONTEXTS, platform, "handbook") or {}).get("status") or {}).get("status") == "True"
        ),
    )
    stack.apply(agent_manifest("writer", context={"refs": [{"namespace": platform, "name": "handbook"}]}))

    def agent_ready(reason: str) -> dict[str, Any] | None:
        status = (stack.kube.get(AGENTS, stack.namespace, "writer") or {}).get("status") or {}
        return status if ready(status).get("reason") == reason else None

    refused = stack.wait_for("the reference to be refused", lambda: agent_ready("RefNotPermitted"))
    condition = ready(refused)
    assert condition["status"] == "False"
    assert condition["message"] == (
        f"spec.context.refs: Context {platform}/handbook does not allow references from namespace "
        f"{stack.namespace}: it sets no spec.allowedNamespaces, so only its own namespace may use it (from: Same); "
        "its owner may allow it with spec.allowedNamespaces (from: All, or from: Selector matching namespace "
        f"{stack.namespace})"
    )
    assert any(c["type"] == "Stalled" and c["status"] == "True" for c in refused["conditions"])
    assert refused.get("contexts", []) == []

    # The platform team allows the namespaces labelled as tenants; the team's namespace is one.
    stack.kubectl("label", "namespace", stack.namespace, "atomesh.io/tenant=true")
    selector = {"from": "Selector", "selector": {"matchLabels": {"atomesh.io/tenant": "true"}}}
    owner.apply({**context, "spec": {**context["spec"], "allowedNamespaces": selector}})
    allowed = stack.wait_for("the shared Context to be used", lambda: agent_ready("Reconciled"))
    (pinned,) = allowed["contexts"]
    assert (pinned["namespace"], pinned["name"], pinned["kind"]) == (platform, "handbook", "git")
    assert "+context@" in allowed["revision"]
    assert not any(c["type"] == "Stalled" for c in allowed["conditions"])

    # Withdrawn: the Agent is refused again, without being edited itself.
    owner.apply({**context, "spec": {**context["spec"], "allowedNamespaces": {"from": "Same"}}})
    again = stack.wait_for("the reference to be refused again", lambda: agent_ready("RefNotPermitted"))
    assert "its spec.allowedNamespaces is from: Same" in ready(again)["message"]
