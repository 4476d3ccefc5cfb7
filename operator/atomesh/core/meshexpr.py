"""Mesh edge input expressions: `${upstream.<field>}` and, for fan-in, `${upstreams.<node>.<field>}`.

Fields of the upstream run:

    run, node                        its name and mesh node
    input.<key>[.<key>...]           its spec.input
    artifact.<files|commit|branch|baseBranch|type|additions|deletions>
    review.<url|mergeCommit|number|state|decidedBy|decidedAt|repo|provider|revision>

A value that is exactly one expression keeps the type of what it reads (a list stays a list);
expressions inside literal text are substituted as text (non-strings as compact JSON). A field the
upstream run does not have is an error naming the expression and the run, never a silent empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from atomesh.api.agentrun import AgentRun, Artifact, ReviewStatus
from atomesh.api.common import dump

EXPRESSION = re.compile(r"\$\{([^}]*)\}")
_KEY = r"[A-Za-z0-9_-]+"
_BODY = re.compile(rf"^(?:upstream|upstreams\.(?P<node>{_KEY}))\.(?P<field>{_KEY}(?:\.{_KEY})*)$")
ARTIFACT_FIELDS = frozenset(field.alias or name for name, field in Artifact.model_fields.items())
REVIEW_FIELDS = frozenset(
    field.alias or name
    for name, field in ReviewStatus.model_fields.items()
    if name not in ("revision_run", "published_at", "checks_passed")  # bookkeeping, not an outcome
)
SCALAR_FIELDS = frozenset({"run", "node"})
HELP = (
    "use ${upstream.run}, ${upstream.node}, ${upstream.input.<key>}, ${upstream.artifact.<field>}, "
    "${upstream.review.<field>} or, with several upstream edges, ${upstreams.<node>.<field>}"
)


class ExpressionError(ValueError):
    """An expression that is malformed or reads a field the upstream run does not have."""


@dataclass(frozen=True)
class Reference:
    """What one expression reads: from `node` (None: the edge's own upstream) the field `path`."""

    node: str | None
    path: tuple[str, ...]
    text: str


def parse_reference(body: str) -> Reference:
    """Parse the inside of `${...}`; ExpressionError explains the grammar when it does not fit."""
    match = _BODY.match(body.strip())
    if match is None:
        raise ExpressionError(f"invalid expression ${{{body}}}: {HELP}")
    path = tuple(match["field"].split("."))
    root, rest = path[0], path[1:]
    if root in SCALAR_FIELDS:
        valid = not rest
    elif root == "input":
        valid = bool(rest)
    elif root == "artifact":
        valid = len(rest) == 1 and rest[0] in ARTIFACT_FIELDS
    elif root == "review":
        valid = len(rest) == 1 and rest[0] in REVIEW_FIELDS
    else:
        valid = False
    if not valid:
        raise ExpressionError(f"invalid expression ${{{body}}}: {HELP}")
    return Reference(node=match["node"], path=path, text=f"${{{body}}}")


def references(template: str) -> list[Reference]:
    """Every expression of a template; ExpressionError for the first malformed one."""
    if template.count("${") != len(EXPRESSION.findall(template)):
        raise ExpressionError(f"unterminated expression in {template!r}: close it with }}")
    return [parse_reference(body) for body in EXPRESSION.findall(template)]


def check_template(template: str, upstream_nodes: Collection[str]) -> str | None:
    """Why a template is invalid for an edge into a node with these upstream nodes, or None."""
    try:
        for reference in references(template):
            if reference.node is not None and reference.node not in upstream_nodes:
                known = ", ".join(sorted(upstream_nodes)) or "none"
                return f"{reference.text} reads node {reference.node!r}, which is not upstream here (upstream: {known})"
    except ExpressionError as error:
        return str(error)
    return None


def upstream_fields(run: AgentRun, node: str) -> dict[str, Any]:
    """The fields an expression may read from an upstream run (wire names, unset fields absent)."""
    status = run.status
    return {
        "run": run.metadata.name,
        "node": node,
        "input": run.spec.input,
        "artifact": dump(status.artifact) if status and status.artifact else {},
        "review": dump(status.review) if status and status.review else {},
    }


def _read(reference: Reference, upstream: Mapping[str, Any], upstreams: Mapping[str, Mapping[str, Any]]) -> Any:
    source = upstream if reference.node is None else upstreams.get(reference.node)
    if source is None:
        raise ExpressionError(f"{reference.text}: node {reference.node!r} has no run in this execution")
    value: Any = source
    for depth, key in enumerate(reference.path):
        if not isinstance(value, Mapping) or key not in value:
            where = ".".join(reference.path[: depth + 1])
            raise ExpressionError(f"{reference.text}: upstream run {source.get('run', '?')!r} has no {where}")
        value = value[key]
    return value


def render_template(
    template: str, upstream: Mapping[str, Any], upstreams: Mapping[str, Mapping[str, Any]] | None = None
) -> Any:
    """The value of a template for these upstream fields; ExpressionError when one is missing."""
    found = references(template)
    others = upstreams or {}
    if len(found) == 1 and template.strip() == found[0].text:
        return _read(found[0], upstream, others)
    values = iter([_read(reference, upstream, others) for reference in found])

    def text(_: re.Match[str]) -> str:
        value = next(values)
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))

    return EXPRESSION.sub(text, template)


def map_input(
    mapping: Mapping[str, str], upstream: Mapping[str, Any], upstreams: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The downstream input of an edge, and one error per key that could not be mapped."""
    result: dict[str, Any] = {}
    errors: list[str] = []
    for key in sorted(mapping):
        try:
            result[key] = render_template(mapping[key], upstream, upstreams)
        except ExpressionError as error:
            errors.append(f"input {key!r}: {error}")
    return result, errors
