"""The patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

All functions are pure: they return a new document and never mutate their inputs, because
stored objects are shared with watchers and caches.
"""

from __future__ import annotations

import copy
from typing import Any

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = (JSON_PATCH, MERGE, STRATEGIC, APPLY)


class PatchError(ValueError):
    """A patch that cannot be applied; the server answers 422 Invalid (or 400 for a malformed one)."""

    def __init__(self, message: str, malformed: bool = False) -> None:
        super().__init__(message)
        self.malformed = malformed


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = merge_patch(result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    return result


# JSON patch -------------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'json patch path "{path}" must start with "/"', malformed=True)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, allow_end: bool) -> int:
    if allow_end and token == "-":  # noqa: S105 - the JSON pointer "append" token
        return len(container)
    if not token.isdigit():
        raise PatchError(f'json patch path "{path}": "{token}" is not an array index')
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchError(f'json patch path "{path}": index {index} is out of range')
    return index


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise PatchError(f'json patch path "{path}": "{token}" does not exist')
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, allow_end=False)]
        else:
            raise PatchError(f'json patch path "{path}": "{token}" is not a container')
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f'json patch path "{path}" does not exist')
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, path, allow_end=False)]
    raise PatchError(f'json patch path "{path}" does not exist')


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, allow_end=True), value)
    else:
        raise PatchError(f'json patch path "{path}": parent is not a container')
    return doc


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("json patch cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f'json patch remove: path "{path}" does not exist')
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, path, allow_end=False)]
    else:
        raise PatchError(f'json patch remove: path "{path}" does not exist')
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add/remove/replace/move/copy/test, with `~1`/`~0` escapes; a failed `test` raises."""
    if not isinstance(operations, list):
        raise PatchError("a json patch must be a list of operations", malformed=True)
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"json patch operation needs 'op' and 'path': {op!r}", malformed=True)
        kind, path = op["op"], op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f'json patch "{kind}" at "{path}" needs a "value"', malformed=True)
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)  # must exist
            doc = _add(_remove(doc, path), path, copy.deepcopy(op["value"])) if _pointer(path) else op["value"]
        elif kind in ("move", "copy"):
            source = op.get("from")
            if source is None:
                raise PatchError(f'json patch "{kind}" needs "from"', malformed=True)
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                doc = _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "test":
            actual = _get(doc, path)
            if actual != op["value"]:
                raise PatchError(f"testing value {path} failed: expected {op['value']!r}, found {actual!r}")
        else:
            raise PatchError(f'json patch: unknown operation "{kind}"', malformed=True)
    return doc


# Strategic merge patch -----------------------------------------------------------------------------

# Merge keys of the built-in kinds' lists (patchMergeKey in the Kubernetes Go types).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
PRIMITIVE_SETS = frozenset({"finalizers"})
SET_ORDER = "$setElementOrder/"
DELETE_FROM = "$deleteFromPrimitiveList/"


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":  # container ports merge by containerPort, service ports by port
        return "containerPort" if any(isinstance(i, dict) and "containerPort" in i for i in items) else "port"
    return MERGE_KEYS.get(field)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _merge_list(field: str, current: Any, patch: list[Any]) -> list[Any]:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    existing = list(current) if isinstance(current, list) else []
    if field in PRIMITIVE_SETS:
        return existing + [v for v in patch if v not in existing]
    key = _merge_key(field, existing + patch)
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [_strip(i) for i in patch]
    for item in patch:
        position = next(
            (n for n, e in enumerate(existing) if isinstance(e, dict) and e.get(key) == item.get(key)), None
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del existing[position]
        elif position is None:
            existing.append(_strip(item))
        else:
            existing[position] = strategic_merge(existing[position], item)
    return existing


def _reorder(items: list[Any], order: list[Any], field: str) -> list[Any]:
    key = _merge_key(field, items)

    def ident(item: Any) -> Any:
        return item.get(key) if key and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ranked = sorted(
        enumerate(items), key=lambda p: (wanted.index(ident(p[1])) if ident(p[1]) in wanted else len(wanted), p[0])
    )
    return [item for _, item in ranked]


def strategic_merge(original: Any, patch: Any) -> Any:
    """Kubernetes strategic merge: lists with a merge key merge by it, `$patch`/`$setElementOrder`/
    `$deleteFromPrimitiveList`/`$retainKeys` directives, `null` deletes."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip(patch)
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                result[key] = strategic_merge(result.get(key), value)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith(DELETE_FROM) and isinstance(value, list):
            field = key[len(DELETE_FROM) :]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
        elif key.startswith(SET_ORDER) and isinstance(value, list):
            field = key[len(SET_ORDER) :]
            if isinstance(result.get(field), list):
                result[field] = _reorder(result[field], value, field)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result
