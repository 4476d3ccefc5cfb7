"""The JSONPath subset of printer columns: `.a.b`, `['a.b']`, `[0]`, `[*]`, `[?(@.type=="Ready")]`.

`find(obj, path)` returns every match, in order; printer columns use the first.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

Step = tuple[str, Any]  # ("key", name) | ("index", n) | ("all", None) | ("filter", (path, op, value))
_FILTER = re.compile(r"^\?\(@((?:\.[\w-]+)+)\s*(==|!=)\s*(.+)\)$")


class JSONPathError(ValueError):
    pass


@lru_cache(maxsize=512)
def parse(path: str) -> tuple[Step, ...]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if text.startswith("$"):
        text = text[1:]
    steps: list[Step] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == ".":
            m = re.match(r"\.([\w-]+)", text[pos:])
            if not m:
                raise JSONPathError(f"unexpected character at {pos} in JSONPath {path!r}")
            steps.append(("key", m.group(1)))
            pos += m.end()
        elif ch == "[":
            end = _closing(text, pos, path)
            inner = text[pos + 1 : end].strip()
            pos = end + 1
            if inner == "*":
                steps.append(("all", None))
            elif inner.lstrip("-").isdigit():
                steps.append(("index", int(inner)))
            elif inner[:1] in "'\"" and inner[-1:] == inner[:1]:
                steps.append(("key", inner[1:-1]))
            else:
                m = _FILTER.match(inner)
                if not m:
                    raise JSONPathError(f"unsupported JSONPath element [{inner}] in {path!r}")
                raw = m.group(3).strip()
                value = raw[1:-1] if raw[:1] in "'\"" else json.loads(raw)
                steps.append(("filter", (parse(m.group(1)), m.group(2), value)))
        else:
            raise JSONPathError(f"unexpected character {ch!r} at {pos} in JSONPath {path!r}")
    return tuple(steps)


def _closing(text: str, start: int, path: str) -> int:
    depth, quote = 0, ""
    for pos in range(start, len(text)):
        ch = text[pos]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return pos
    raise JSONPathError(f"unclosed [ in JSONPath {path!r}")


def find(obj: Any, path: str) -> list[Any]:
    current = [obj]
    for kind, arg in parse(path):
        nxt: list[Any] = []
        for node in current:
            keyed = kind == "key" and isinstance(node, dict) and arg in node
            indexed = kind == "index" and isinstance(node, list) and -len(node) <= arg < len(node)
            if keyed or indexed:
                nxt.append(node[arg])
            elif kind == "all":
                nxt.extend(node if isinstance(node, list) else node.values() if isinstance(node, dict) else [])
            elif kind == "filter" and isinstance(node, list):
                sub, op, value = arg
                for item in node:
                    found = _find_steps(item, sub)
                    hit = bool(found) and found[0] == value
                    if hit == (op == "=="):
                        nxt.append(item)
        current = nxt
    return current


def _find_steps(obj: Any, steps: tuple[Step, ...]) -> list[Any]:
    current = [obj]
    for kind, arg in steps:
        current = [n[arg] for n in current if kind == "key" and isinstance(n, dict) and arg in n]
    return current
