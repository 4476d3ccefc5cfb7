"""Cross-field rules of the atomesh kinds that the API server checks: CEL `x-kubernetes-validations` in the CRDs.

`atomesh lint` and the operator check the same things in Python (core.validation, core.graph); these rules make
`kubectl apply` reject them too. Every list a rule iterates has `maxItems` and every string a rule searches has
`maxLength` in the models, so kube-apiserver's cost estimate stays within its budget. What CEL cannot check (cron
expressions, time zones, JSON Schemas, cycles) stays with lint and the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atomesh.api import constants


@dataclass(frozen=True)
class Rule:
    """One `x-kubernetes-validations` entry."""

    rule: str
    message: str = ""
    message_expression: str = ""
    reason: str = ""
    field_path: str = ""

    def to_crd(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"rule": self.rule}
        for key, value in (
            ("message", self.message),
            ("messageExpression", self.message_expression),
            ("reason", self.reason),
            ("fieldPath", self.field_path),
        ):
            if value:
                entry[key] = value
        return entry


EXACTLY_ONE_SOURCE = "set exactly one of instructions (inline) or source (in git)"
CHECK_NAMES_UNIQUE = "check names must be unique"
PATH_RELATIVE = "must be relative to the repository root (no leading / and no ..)"
NODE_NAMES_UNIQUE = "node names must be unique"
EDGE_UNKNOWN_NODE = "edges must connect nodes of the mesh: from and to must each name an entry of agents"
EDGE_SELF = "an edge must not point at its own node"
EDGE_DUPLICATE = "edges must be unique by from and to: merge their input"
AGENT_REF_IMMUTABLE = "agentRef is immutable: create a new AgentRun to run another Agent"
REVISION_OF_IMMUTABLE = "revisionOf is immutable"
EXACTLY_ONE_CONTEXT_SOURCE = "set exactly one of git, configMap or oci"
TRIGGER_NAMES_UNIQUE = "trigger names must be unique"
EXACTLY_ONE_EVENT_SOURCE = "set exactly one of github or webhook"
SELECTOR_REQUIRED = "selector is required when from is Selector"

# Schema path (`spec.review.checks`; `[]` for the items of a list) -> rules, per kind.
RULES: dict[str, dict[str, tuple[Rule, ...]]] = {
    constants.KIND_AGENT: {
        "spec": (Rule("has(self.instructions) != has(self.source)", EXACTLY_ONE_SOURCE),),
        "spec.review.checks": (
            Rule(
                "self.all(c, self.exists_one(d, d.name == c.name))",
                CHECK_NAMES_UNIQUE,
                message_expression=(
                    "'duplicate check name \\'' + self.filter(c, !self.exists_one(d, d.name == c.name))[0].name"
                    " + '\\': " + CHECK_NAMES_UNIQUE + "'"
                ),
            ),
        ),
        "spec.triggers.events": (
            Rule(
                "self.all(t, self.exists_one(u, u.name == t.name))",
                TRIGGER_NAMES_UNIQUE,
                message_expression=(
                    "'duplicate trigger name \\'' + self.filter(t, !self.exists_one(u, u.name == t.name))[0].name"
                    " + '\\': " + TRIGGER_NAMES_UNIQUE + "'"
                ),
            ),
        ),
        "spec.triggers.events[]": (Rule("has(self.github) != has(self.webhook)", EXACTLY_ONE_EVENT_SOURCE),),
        "spec.output.paths[]": (
            Rule(
                "!self.startsWith('/') && !self.split('/').exists(part, part == '..')",
                PATH_RELATIVE,
                message_expression="'\\'' + self + '\\' " + PATH_RELATIVE + "'",
            ),
        ),
    },
    constants.KIND_MESH: {
        "spec.agents": (
            Rule(
                "self.all(a, self.exists_one(b, b.name == a.name))",
                NODE_NAMES_UNIQUE,
                message_expression=(
                    "'duplicate node name \\'' + self.filter(a, !self.exists_one(b, b.name == a.name))[0].name"
                    " + '\\': " + NODE_NAMES_UNIQUE + "'"
                ),
            ),
        ),
        "spec": (
            Rule(
                "self.edges.all(e, self.agents.exists(n, n.name == e.from) && self.agents.exists(n, n.name == e.to))",
                EDGE_UNKNOWN_NODE,
                message_expression=(
                    "'edge(s) ' + self.edges.filter(e, !self.agents.exists(n, n.name == e.from) || "
                    "!self.agents.exists(n, n.name == e.to)).map(e, e.from + ' -> ' + e.to).join(', ') + "
                    "' name an unknown node; nodes are: ' + self.agents.map(n, n.name).join(', ')"
                ),
                field_path=".edges",
            ),
        ),
        "spec.edges[]": (
            Rule(
                "self.from != self.to",
                EDGE_SELF,
                message_expression="'edge ' + self.from + ' -> ' + self.to + ' points at its own node; remove it'",
            ),
        ),
        "spec.edges": (
            Rule(
                "self.all(e, self.exists_one(f, f.from == e.from && f.to == e.to))",
                EDGE_DUPLICATE,
                message_expression=(
                    "'duplicate edge ' + self.filter(e, !self.exists_one(f, f.from == e.from && f.to == e.to))"
                    ".map(e, e.from + ' -> ' + e.to)[0] + ': " + EDGE_DUPLICATE + "'"
                ),
            ),
        ),
    },
    constants.KIND_CONTEXT: {
        "spec": (
            Rule(
                "[has(self.git), has(self.configMap), has(self.oci)].filter(s, s).size() == 1",
                EXACTLY_ONE_CONTEXT_SOURCE,
            ),
        ),
        "spec.allowedNamespaces": (Rule("self.from != 'Selector' || has(self.selector)", SELECTOR_REQUIRED),),
    },
    constants.KIND_AGENT_RUN: {
        "spec.agentRef": (Rule("self.name == oldSelf.name", AGENT_REF_IMMUTABLE),),
        "spec": (
            Rule(
                "has(self.revisionOf) == has(oldSelf.revisionOf)"
                " && (!has(self.revisionOf) || self.revisionOf == oldSelf.revisionOf)",
                REVISION_OF_IMMUTABLE,
                field_path=".revisionOf",
            ),
        ),
    },
}


def rules_for(kind: str) -> dict[str, tuple[Rule, ...]]:
    return RULES.get(kind, {})


__all__ = ["RULES", "Rule", "rules_for"]
