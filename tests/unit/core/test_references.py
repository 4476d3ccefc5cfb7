"""Cross-namespace references, pure: the rule a referenced object declares (`spec.allowedNamespaces`),
an Agent's shared Contexts (`spec.context.refs`), the condition that refuses one, the CRD's selector rule,
the wake-ups of other namespaces' Agents and `atomesh lint`."""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.test_crd import apply_defaults

from atomesh.api import conditions as c
from atomesh.api.agent import AgentSpec, AgentStatus
from atomesh.api.context import AgentContext, Context
from atomesh.api.crd import KINDS, openapi_schema
from atomesh.api.references import AllowedNamespaces
from atomesh.core.conditions import find
from atomesh.core.context import select_contexts, with_contexts
from atomesh.core.contextplan import agents_referencing, shared_changed
from atomesh.core.plan import Plan
from atomesh.core.references import reference_refusal
from atomesh.core.revision import plan_agent_status
from atomesh.devstack.kube import celrules
from atomesh.lint import lint_texts

NOW = "2026-01-01T00:00:00Z"
COMMIT = "c" * 40


def allowed(spec: dict[str, Any] | None) -> AllowedNamespaces | None:
    return None if spec is None else AllowedNamespaces.model_validate(spec)


def refusal(rule: dict[str, Any] | None, labels: dict[str, str] | None = None, source: str = "team-a") -> str | None:
    return reference_refusal(
        allowed(rule),
        target="Context platform/handbook",
        target_namespace="platform",
        from_namespace=source,
        from_labels=labels,
    )


def test_the_same_namespace_is_always_allowed_whatever_the_rule() -> None:
    assert refusal(None, source="platform") is None
    assert refusal({"from": "Selector", "selector": {"matchLabels": {"x": "y"}}}, source="platform") is None


def test_without_a_rule_only_the_own_namespace_may_refer_and_the_message_names_the_rule() -> None:
    message = refusal(None)
    assert message is not None
    assert message.startswith("Context platform/handbook does not allow references from namespace team-a")
    assert "sets no spec.allowedNamespaces" in message
    assert "from: Same" in message
    assert refusal({"from": "Same"}) is not None
    assert "from: Same" in (refusal({"from": "Same"}) or "")


def test_all_allows_every_namespace() -> None:
    assert refusal({"from": "All"}) is None


def test_selector_allows_the_namespaces_whose_labels_match() -> None:
    rule = {"from": "Selector", "selector": {"matchLabels": {"atomesh.io/tenant": "true"}}}
    assert refusal(rule, {"atomesh.io/tenant": "true", "team": "a"}) is None
    message = refusal(rule, {"team": "a"})
    assert message is not None
    assert "from: Selector with matchLabels atomesh.io/tenant=true" in message
    unknown = refusal(rule, None)
    assert unknown is not None
    assert "labels of namespace team-a could not be read" in unknown


def test_selector_without_a_selector_allows_no_other_namespace_and_a_selector_is_ignored_otherwise() -> None:
    message = refusal({"from": "Selector"}, {"a": "b"})
    assert message is not None
    assert "from: Selector without a selector" in message
    assert refusal({"from": "All", "selector": {"matchLabels": {"a": "b"}}}, {}) is None


def test_the_crd_enforces_the_selector_rule_with_cel() -> None:
    schema = openapi_schema(next(info for info in KINDS if info.kind == "Context").model)
    tree = celrules.tree_for(schema)

    def problems(rule: dict[str, Any]) -> list[str]:
        spec = {"git": {"repo": "acme/handbook"}, "allowedNamespaces": rule}
        obj = {"metadata": {"name": "a"}, "spec": apply_defaults(schema["properties"]["spec"], spec)}
        return [found["message"] for found in celrules.validate(tree, obj, None, [])]

    assert problems({"from": "Selector"}) == ['Invalid value: "object": selector is required when from is Selector']
    assert problems({"from": "Selector", "selector": {"matchLabels": {"a": "b"}}}) == []
    assert problems({}) == []
    assert problems({"from": "All"}) == []


def context(namespace: str, name: str, *, rule: dict[str, Any] | None, configmap: bool = False) -> Context:
    source = {"configMap": {"name": name}} if configmap else {"git": {"repo": "acme/handbook", "path": name}}
    version = {"name": name, "kind": "configMap" if configmap else "git", "revision": f"main@sha1:{COMMIT}"}
    return Context.model_validate(
        {
            "metadata": {"name": name, "namespace": namespace},
            "spec": {**source, **({"allowedNamespaces": rule} if rule is not None else {})},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}],
                "version": version,
            },
        }
    )


def selection(refs: list[tuple[str, str]], names: tuple[str, ...] = ()) -> AgentContext:
    return AgentContext.model_validate(
        {"names": list(names), "refs": [{"namespace": ns, "name": name} for ns, name in refs]}
    )


def test_an_allowed_shared_context_is_pinned_with_its_namespace_next_to_local_ones() -> None:
    local = context("team-a", "handbook", rule=None)
    shared = {("platform", "handbook"): context("platform", "handbook", rule={"from": "All"})}
    picked = select_contexts(
        selection([("platform", "handbook")], names=("handbook",)), [local], namespace="team-a", shared=shared
    )
    assert (picked.problems, picked.refused) == ((), ())
    assert [(v.namespace, v.name, v.key) for v in picked.versions] == [
        (None, "handbook", "handbook"),
        ("platform", "handbook", "_shared/platform/handbook"),
    ]
    # Same name, two namespaces: two entries in the revision, so either changing is a new revision.
    assert with_contexts("inline@x", picked.versions) != with_contexts("inline@x", picked.versions[:1])


def test_a_ref_to_the_agents_own_namespace_is_a_local_context() -> None:
    local = context("team-a", "handbook", rule=None)
    picked = select_contexts(selection([("team-a", "handbook")]), [local], namespace="team-a", shared={})
    assert [v.namespace for v in picked.versions] == [None]


def test_a_shared_context_that_does_not_allow_the_namespace_is_refused() -> None:
    shared = {("platform", "handbook"): context("platform", "handbook", rule=None)}
    picked = select_contexts(selection([("platform", "handbook")]), [], namespace="team-a", shared=shared)
    assert picked.versions == ()
    assert len(picked.refused) == 1
    assert "does not allow references from namespace team-a" in picked.refused[0]


def test_a_selector_rule_is_checked_against_the_agents_namespace_labels() -> None:
    rule = {"from": "Selector", "selector": {"matchLabels": {"tenant": "yes"}}}
    shared = {("platform", "handbook"): context("platform", "handbook", rule=rule)}
    refs = selection([("platform", "handbook")])
    ok = select_contexts(refs, [], namespace="team-a", shared=shared, namespace_labels={"tenant": "yes"})
    assert len(ok.versions) == 1
    assert ok.refused == ()
    no = select_contexts(refs, [], namespace="team-a", shared=shared, namespace_labels={"tenant": "no"})
    assert no.versions == ()
    assert len(no.refused) == 1


def test_a_shared_configmap_context_is_refused_even_when_allowed() -> None:
    shared = {("platform", "glossary"): context("platform", "glossary", rule={"from": "All"}, configmap=True)}
    picked = select_contexts(selection([("platform", "glossary")]), [], namespace="team-a", shared=shared)
    assert len(picked.refused) == 1
    assert "ConfigMap context" in picked.refused[0]
    assert "mounts ConfigMaps of its own namespace only" in picked.refused[0]


def test_a_missing_or_unreadable_shared_context_waits_instead() -> None:
    refs = selection([("platform", "gone"), ("other", "secret")])
    shared: dict[tuple[str, str], Context | str | None] = {
        ("platform", "gone"): None,
        ("other", "secret"): "cannot be read by the operator (403 Forbidden)",
    }
    picked = select_contexts(refs, [], namespace="team-a", shared=shared)
    assert picked.refused == ()
    assert picked.problems == (
        "Context 'other/secret' (spec.context.refs) cannot be read by the operator (403 Forbidden)",
        "Context 'platform/gone' (spec.context.refs) does not exist",
    )


AGENT = {
    "purpose": "p",
    "instructions": "i",
    "output": {"artifact": "doc"},
    "workspace": {"repo": "acme/docs"},
    "harness": {"model": "claude-sonnet-4-6"},
    "context": {"refs": [{"namespace": "platform", "name": "handbook"}]},
}


def test_a_refused_reference_makes_the_agent_stalled_with_ref_not_permitted_naming_the_rule() -> None:
    spec = AgentSpec.model_validate(AGENT)
    shared = {("platform", "handbook"): context("platform", "handbook", rule=None)}
    picked = select_contexts(spec.context, [], namespace="team-a", shared=shared)
    status = plan_agent_status(
        AgentStatus(), generation=3, spec=spec, invalid=None, resolution=None, now=NOW, contexts=picked
    )
    ready, refs, stalled = (find(status.conditions, t) for t in (c.READY, c.RESOLVED_REFS, c.STALLED))
    assert ready is not None
    assert refs is not None
    assert stalled is not None
    assert (ready.status, ready.reason) == (c.FALSE, c.REF_NOT_PERMITTED)
    assert (refs.status, stalled.status) == (c.FALSE, c.TRUE)
    assert ready.message.startswith("spec.context.refs: Context platform/handbook does not allow references")
    assert "spec.allowedNamespaces" in ready.message
    # Allowed afterwards: Ready, and Stalled is gone.
    shared = {("platform", "handbook"): context("platform", "handbook", rule={"from": "All"})}
    picked = select_contexts(spec.context, [], namespace="team-a", shared=shared)
    after = plan_agent_status(status, generation=3, spec=spec, invalid=None, resolution=None, now=NOW, contexts=picked)
    assert [(cond.type, cond.status) for cond in after.conditions if cond.type in (c.READY, c.STALLED)] == [
        (c.READY, c.TRUE)
    ]
    assert [v.qualified_name for v in after.contexts] == ["platform/handbook"]


def agent_body(namespace: str, name: str, refs: list[dict[str, str]], pinned: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"context": {"refs": refs}},
        "status": {"contexts": pinned},
    }


def test_agents_of_other_namespaces_that_name_or_pinned_the_context_are_found() -> None:
    ref = {"namespace": "platform", "name": "handbook"}
    agents = [
        agent_body("team-a", "writer", [ref], []),
        agent_body("team-b", "old", [], [{**ref, "kind": "git", "revision": "r"}]),
        agent_body("team-c", "other", [{"namespace": "platform", "name": "glossary"}], []),
        agent_body("platform", "local", [ref], []),
    ]
    assert agents_referencing("platform", "handbook", agents) == [("team-a", "writer"), ("team-b", "old")]


def test_other_namespaces_are_woken_on_a_spec_revision_or_existence_change_only() -> None:
    body = {"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "revision": "r1"}}
    assert shared_changed(None, Plan()) is True
    assert shared_changed(body, Plan(status={"revision": "r1"})) is False  # a poll that found nothing new
    assert shared_changed(body, Plan(status={"revision": "r2"})) is True
    assert shared_changed({**body, "metadata": {"generation": 3}}, Plan(status={"revision": "r1"})) is True


SHARED = """\
apiVersion: atomesh.io/v1alpha1
kind: Context
metadata: {{name: handbook, namespace: platform}}
spec:
  git: {{repo: acme/handbook}}
{rule}
---
apiVersion: atomesh.io/v1alpha1
kind: Agent
metadata: {{name: writer, namespace: team-a}}
spec:
  purpose: p
  instructions: i
  output: {{artifact: doc}}
  workspace: {{repo: acme/docs}}
  harness: {{model: claude-sonnet-4-6}}
  context:
    refs: [{{namespace: platform, name: handbook}}]
"""


def test_lint_refuses_a_shared_context_that_does_not_allow_the_agents_namespace() -> None:
    findings = lint_texts([("all.yaml", SHARED.format(rule=""))])
    assert [(f.line, f.path) for f in findings] == [(18, "spec.context.refs[0]")]
    assert "does not allow references from namespace team-a" in findings[0].message


@pytest.mark.parametrize(
    "rule",
    ["  allowedNamespaces: {from: All}", "  allowedNamespaces: {from: Selector, selector: {matchLabels: {a: b}}}"],
)
def test_lint_accepts_all_and_leaves_a_selector_to_the_operator(rule: str) -> None:
    assert lint_texts([("all.yaml", SHARED.format(rule=rule))]) == []


def test_lint_reports_selector_without_a_selector() -> None:
    findings = lint_texts([("all.yaml", SHARED.format(rule="  allowedNamespaces: {from: Selector}"))])
    assert next((f.path, f.message) for f in findings) == (
        "spec.allowedNamespaces.selector",
        "selector is required when from is Selector",
    )


def test_lint_asks_for_the_shared_context_to_be_linted_with_the_agent() -> None:
    agent = SHARED.format(rule="").split("---\n")[1]
    findings = lint_texts([("agent.yaml", agent)])
    assert [f.path for f in findings] == ["spec.context.refs[0]"]
    assert "no Context platform/handbook in the files linted" in findings[0].message
