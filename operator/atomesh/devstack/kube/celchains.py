"""Lexical reading of CEL rules against their schema: `self.a.b` / `oldSelf.a.b` chains.

cel-go, as kube-apiserver configures it, types every object of a CRD schema as a struct with its declared fields
(apiserver `pkg/cel/common/schemas.go`), so it reports `undefined field 'x'` and type errors on fields when a CRD
is written. cel-cpp has no schema-defined struct types here: objects are `map(string, dyn)`. This module gives back
what that loses for chains rooted at `self`/`oldSelf`: undeclared fields, and a rewrite of each chain that ends on
a typed node (a scalar, list or map) into a placeholder variable of the same length and that node's type, so the
checker sees the field types at the same columns. Comprehension variables (`a.name` in `self.all(a, ...)`) are
not followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

# apiserver pkg/cel/escaping.go: property names that are CEL reserved words are written `__{word}__`.
_RESERVED_WORDS = (
    "true false null in as break const continue else for function if import let loop package namespace return "
    "var void while"
)
_RESERVED = frozenset(_RESERVED_WORDS.split())
_ESCAPABLE = re.compile(r"^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$")
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}
_STRING_LITERAL = re.compile(r"""(?s)[rRbB]*('''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""")
_OLD_SELF = re.compile(r"(?<![.\w])oldSelf\b")
_CHAIN = re.compile(r"(?<![.\w])(?:self|oldSelf)((?:\s*\.\s*\??\s*\w+)+)")
_STEP = re.compile(r"\s*\.\s*(\?)?\s*(\w+)")


def escape(name: str) -> str | None:
    """The CEL identifier of a property name, or None when CEL cannot address it (escaping.go Escape)."""
    if not name or name[0].isdigit() or not _ESCAPABLE.match(name):
        return None
    if name in _RESERVED:
        return f"__{name}__"
    return re.sub(r"__|[.\-/]", lambda m: _ESCAPES[m.group(0)], name)


def code(expression: str) -> str:
    """The expression with string literals blanked (same length), so lexical checks skip their text."""
    return _STRING_LITERAL.sub(lambda m: " " * len(m.group(0)), expression)


def uses_old_self(expression: str) -> bool:
    return bool(_OLD_SELF.search(code(expression)))


@dataclass(frozen=True)
class Chain:
    """A `self.a.b` chain: where it starts, where its followed fields end and the schema node there, or the
    first undeclared field and the offset of its dot."""

    start: int
    end: int
    node: Schema
    optional: bool = False
    undefined: str = ""
    undefined_at: int = -1


def chains(expression: str, schema: Schema) -> Iterator[Chain]:
    text = code(expression)
    for found in _CHAIN.finditer(text):
        node, end, optional = schema, found.start(1), False
        for step in _STEP.finditer(found.group(1)):
            absolute = found.start(1) + step.end()
            if text[absolute:].lstrip().startswith("(") or node.get("type") != "object":
                break  # a method call, or below a node whose fields are not declared
            optional = optional or step.group(1) is not None
            if isinstance(node.get("additionalProperties"), dict):
                node, end = node["additionalProperties"], absolute
                continue
            fields = {escape(key): sub for key, sub in (node.get("properties") or {}).items()}
            if step.group(2) not in fields:
                dot = found.start(1) + step.start() + step.group(0).index(".")
                yield Chain(found.start(), end, node, optional, step.group(2), dot)
                break
            node, end = fields[step.group(2)], absolute
        else:
            yield Chain(found.start(), end, node, optional)
            continue
        if end > found.start(1):
            yield Chain(found.start(), end, node, optional)


def caret(expression: str, offset: int) -> tuple[str, str]:
    """cel-go's location (`<input>:L:C`) and source snippet with a caret under `offset`."""
    line_start = expression.rfind("\n", 0, offset) + 1
    line_end = expression.find("\n", offset)
    line = expression[line_start : None if line_end < 0 else line_end]
    column = offset - line_start
    return f"<input>:{expression.count(chr(10), 0, offset) + 1}:{column + 1}", f"\n | {line}\n | {'.' * column}^"


def undefined_fields(expression: str, schema: Schema) -> list[str]:
    """cel-go's `undefined field` issues for chains naming undeclared properties."""
    issues = []
    for chain in chains(expression, schema):
        if chain.undefined:
            where, snippet = caret(expression, chain.undefined_at)
            issues.append(f"ERROR: {where}: undefined field '{chain.undefined}'{snippet}")
    return issues


def placeholders(expression: str, schema: Schema) -> tuple[str, dict[str, Schema]]:
    """The expression with every chain that ends on a field replaced by a same-length variable, and their schemas.

    Chains inside `has(...)` stay (has() needs a field selection), and so do optional selections (`.?x`).
    """
    text = code(expression)
    rewritten, variables = expression, {}
    for index, chain in enumerate(c for c in chains(expression, schema) if not c.undefined):
        if chain.optional or chain.end <= chain.start or re.search(r"has\s*\(\s*$", text[: chain.start]):
            continue
        if chain.node.get("type") == "object" and not isinstance(chain.node.get("additionalProperties"), dict):
            continue  # objects stay map(string, dyn)
        length = chain.end - chain.start
        name = f"_f{index}".ljust(length, "_")
        if len(name) > length:
            continue
        rewritten = rewritten[: chain.start] + name + rewritten[chain.end :]
        variables[name] = chain.node
    return rewritten, variables


def restore(issues: str, rewritten: str, original: str) -> str:
    """Issues of the rewritten expression, with its source lines shown as the user wrote them."""
    for new, old in zip(rewritten.split("\n"), original.split("\n"), strict=True):
        issues = issues.replace(f" | {new}\n", f" | {old}\n")
    return issues
