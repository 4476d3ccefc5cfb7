"""Lexical reading of CEL rules against their schema: `self.a.b` / `oldSelf.a.b` chains.

cel-go, as kube-apiserver configures it, types every object of a CRD schema as a struct with its declared fields
(apiserver `pkg/cel/common/schemas.go`), so it reports `undefined field 'x'` and type errors on fields when a CRD
is written. cel-cpp has no schema-defined struct types here: objects are `map(string, dyn)`. This module gives back
what that loses for chains rooted at `self`/`oldSelf`: undeclared fields, and a rewrite of each chain that ends on
a typed node (a scalar, list or map) into a placeholder variable of the same length and that node's type, so the
checker sees the field types at the same columns. Variables of comprehensions over such chains (`a` in
`self.agents.all(a, a.name == ...)`) are followed too; index expressions (`self.agents[0].name`) are not.
"""

from __future__ import annotations

import re
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
_STEP = re.compile(r"\s*\.\s*(\?)?\s*(\w+)")
_MACRO = re.compile(r"\s*\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


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
    """A chain such as `self.a.b`: where it starts, where the fields it could follow end (`steps` of them) and the
    schema node there; `undefined` is the first undeclared field, with the offset of its dot."""

    start: int
    end: int
    node: Schema
    steps: int = 0
    optional: bool = False
    undefined: str = ""
    undefined_at: int = -1


def _follow(text: str, found: re.Match[str], node: Schema) -> Chain:
    end, steps, optional = found.start(1), 0, False
    for step in _STEP.finditer(found.group(1)):
        absolute = found.start(1) + step.end()
        if text[absolute:].lstrip().startswith("(") or node.get("type") != "object":
            break  # a method call or macro, or below a node whose fields are not declared
        optional = optional or step.group(1) is not None
        if isinstance(node.get("additionalProperties"), dict):
            node, end, steps = node["additionalProperties"], absolute, steps + 1
            continue
        fields = {escape(key): sub for key, sub in (node.get("properties") or {}).items()}
        if step.group(2) not in fields:
            dot = found.start(1) + step.start() + step.group(0).index(".")
            return Chain(found.start(), end, node, steps, optional, step.group(2), dot)
        node, end, steps = fields[step.group(2)], absolute, steps + 1
    return Chain(found.start(), end, node, steps, optional)


def _closing(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    return len(text)


def chains(expression: str, schema: Schema) -> list[Chain]:
    """Chains rooted at `self`/`oldSelf`, and at the variables of comprehensions over their lists and maps
    (`self.agents.all(a, a.name ...)`: `a` is an item of agents within the macro's parentheses)."""
    text = code(expression)
    found_chains: list[Chain] = []
    pending: list[tuple[str, Schema, int, int]] = [("self|oldSelf", schema, 0, len(text))]
    while pending:
        names, node, low, high = pending.pop()
        pattern = re.compile(rf"(?<![.\w])(?:{names})\b((?:\s*\.\s*\??\s*\w+)*)")
        for found in pattern.finditer(text, low, high):
            chain = _follow(text, found, node)
            found_chains.append(chain)
            macro = _MACRO.match(text, chain.end)
            if chain.undefined or macro is None or chain.optional:
                continue
            kind = chain.node.get("type")
            extra = chain.node.get("additionalProperties")
            element = (
                chain.node.get("items") if kind == "array" else {"type": "string"} if isinstance(extra, dict) else None
            )
            if isinstance(element, dict):
                close = _closing(text, text.index("(", chain.end))
                pending.append((re.escape(macro.group(1)), element, macro.end(), close))
    return sorted(found_chains, key=lambda c: c.start)


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
    for index, chain in enumerate(c for c in chains(expression, schema) if not c.undefined and c.steps):
        if chain.optional or re.search(r"has\s*\(\s*$", text[: chain.start]):
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
