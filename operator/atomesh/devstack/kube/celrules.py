"""`x-kubernetes-validations` of a CRD schema: compiled when a CRD is written, evaluated on every write of its objects.

Follows apiextensions-apiserver:
- `pkg/apis/apiextensions/validation/validation.go` (ValidateCustomResourceDefinitionOpenAPISchema: reason,
  fieldPath, message checks and `...x-kubernetes-validations[i].rule: Invalid value: apiextensions.ValidationRule{...}:
  compilation failed: ...`, `oldSelf cannot be used on the uncorrelatable portion of the schema`);
- `pkg/apiserver/schema/cel/validation.go` (Validator: rules at every schema level, items, properties,
  additionalProperties and allOf; transition rules only with an old value; messageExpression, fieldPath and reason;
  ratcheting of unchanged values; errors `<path>: Invalid value: "object": <message>`);
- `pkg/registry/customresource/strategy.go` (hasBlockingErr: no CEL when the schema already failed on types,
  required fields, enums or sizes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from atomesh.devstack.kube import cel, celchains
from atomesh.devstack.kube.errors import cause

Schema = dict[str, Any]
Cause = dict[str, str]
REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")
BLOCKING = frozenset(
    {"FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany", "FieldValueTypeInvalid"}
)
_FORBIDDEN = "FieldValueForbidden"
BLOCKED = (
    "some validation rules were not checked because the object was invalid; "
    "correct the existing errors to complete validation"
)


@dataclass(frozen=True)
class Rule:
    """One entry of `x-kubernetes-validations`, compiled."""

    raw: dict[str, Any]
    program: Any
    uses_old_self: bool
    message_program: Any = None
    field_path: str = ""  # normalized, relative to the node: ".a.b" or "[key]" forms joined

    @property
    def message(self) -> str:
        """ruleMessageOrDefault."""
        text = str(self.raw.get("message") or "").strip()
        return text or f"failed rule: {str(self.raw.get('rule', '')).strip()}"

    @property
    def error_string(self) -> str:
        """ruleErrorString: the message, else the rule."""
        return str(self.raw.get("message") or "").strip() or str(self.raw.get("rule", "")).strip()


@dataclass
class Node:
    """The rules of one schema node and of the nodes below it (Validator)."""

    schema: Schema
    root: bool
    rules: list[Rule] = field(default_factory=list)
    properties: dict[str, Node] = field(default_factory=dict)
    items: Node | None = None
    additional: Node | None = None
    all_of: list[Node] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.rules or self.properties or self.items or self.additional or self.all_of)


def _go_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _go_rule(raw: dict[str, Any]) -> str:
    """A ValidationRule as Go's %#v prints it (pointers shown as a fixed address: Go prints the real one)."""
    reason = "(*apiextensions.FieldValueErrorReason)(nil)"
    if raw.get("reason") is not None:
        reason = "(*apiextensions.FieldValueErrorReason)(0xc000a1b2c0)"
    optional = "(*bool)(nil)" if raw.get("optionalOldSelf") is None else "(*bool)(0xc000a1b2c8)"
    return (
        f"apiextensions.ValidationRule{{Rule:{_go_string(str(raw.get('rule', '')))}, "
        f"Message:{_go_string(str(raw.get('message', '')))}, "
        f"MessageExpression:{_go_string(str(raw.get('messageExpression', '')))}, Reason:{reason}, "
        f"FieldPath:{_go_string(str(raw.get('fieldPath', '')))}, OptionalOldSelf:{optional}}}"
    )


_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\['((?:\\.|[^'\\])*)'\]")


def field_path(path: str, schema: Schema) -> str | None:
    """ValidFieldPath: the normalized field path of `fieldPath`, or None when it names no field of the schema."""
    result, node, position = "", schema, 0
    while position < len(path):
        token = _PATH_TOKEN.match(path, position)
        if token is None:
            return None
        name = token.group(1) if token.group(1) is not None else re.sub(r"\\(.)", r"\1", token.group(2))
        properties = node.get("properties")
        if properties is not None:
            if name not in properties:
                return None
            result, node = f"{result}.{name}", properties[name]
        elif isinstance(node.get("additionalProperties"), dict):
            result, node = f"{result}[{name}]", node["additionalProperties"]
        else:
            return None
        position = token.end()
    return result


class CompileErrors(Exception):
    def __init__(self, causes: list[Cause]) -> None:
        super().__init__("; ".join(c["message"] for c in causes))
        self.causes = causes


def _rule_causes(raw: Any, schema: Schema, base: str, uncorrelatable: str | None) -> tuple[Rule | None, list[Cause]]:
    """One rule compiled, or the CRD errors it gets; `base` is its path (`...x-kubernetes-validations[i]`)."""
    if not isinstance(raw, dict) or not str(raw.get("rule") or "").strip():
        return None, []
    try:
        return _compile_rule(raw, schema, base, uncorrelatable)
    except cel.NotEmulated as error:
        # Refused, never accepted: kube-apiserver might reject the rule, or evaluate it differently.
        return None, [
            cause(f"{base}.rule", f"Forbidden: not emulated by this development API server: {error}", _FORBIDDEN)
        ]


def _compile_rule(
    raw: dict[str, Any], schema: Schema, base: str, uncorrelatable: str | None
) -> tuple[Rule | None, list[Cause]]:
    causes: list[Cause] = []
    if raw.get("optionalOldSelf"):
        raise cel.NotEmulated("optionalOldSelf of x-kubernetes-validations is not emulated")
    reason = raw.get("reason")
    if reason is not None and reason not in REASONS:
        supported = ", ".join(f'"{r}"' for r in REASONS)
        message = f'Unsupported value: "{reason}": supported values: {supported}'
        causes.append(cause(f"{base}.reason", message, "FieldValueNotSupported"))
    normalized = ""
    if raw.get("fieldPath"):
        found = field_path(str(raw["fieldPath"]), schema)
        if found is None:
            message = f"Invalid value: {_go_string(raw['fieldPath'])}: fieldPath must be a valid path"
            causes.append(cause(f"{base}.fieldPath", message))
        normalized = found or ""
    rule_text = str(raw["rule"])
    compiled = cel.compile_expression(rule_text, schema, want="bool")
    if compiled.error:
        causes.append(cause(f"{base}.rule", f"Invalid value: {_go_rule(raw)}: {compiled.error}"))
    message_program = None
    if raw.get("messageExpression"):
        message_compiled = cel.compile_expression(str(raw["messageExpression"]), schema, want="string")
        if message_compiled.error:
            message = f"Invalid value: {_go_rule(raw)}: {message_compiled.error}"
            causes.append(cause(f"{base}.messageExpression", message))
        message_program = message_compiled.program
    uses_old = celchains.uses_old_self(rule_text)
    if uses_old and uncorrelatable is not None:
        message = (
            f"Invalid value: {_go_string(rule_text)}: oldSelf cannot be used on the uncorrelatable portion of the "
            f"schema within {uncorrelatable}"
        )
        causes.append(cause(f"{base}.rule", message))
    if causes:
        return None, causes
    return Rule(raw, compiled.program, uses_old, message_program, normalized), []


def _rules(
    rules: Any, schema: Schema, where: str, root: bool, uncorrelatable: str | None
) -> tuple[list[Rule], list[Cause]]:
    typed = cel.with_type_and_meta(schema) if root else schema
    compiled: list[Rule] = []
    causes: list[Cause] = []
    for index, raw in enumerate(rules or []):
        rule, problems = _rule_causes(raw, typed, f"{where}.x-kubernetes-validations[{index}]", uncorrelatable)
        causes += problems
        if rule is not None:
            compiled.append(rule)
    return compiled, causes


def _embedded(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-embedded-resource"))


def compile_schema(
    schema: Schema, where: str, root: bool = True, uncorrelatable: str | None = None
) -> tuple[Node, list[Cause]]:
    """The rule tree of a schema, and the CRD validation errors of its rules (paths start at `where`)."""
    node = Node(schema, root)
    node.rules, causes = _rules(schema.get("x-kubernetes-validations"), schema, where, root, uncorrelatable)
    for key, sub in (schema.get("properties") or {}).items():
        child, problems = compile_schema(sub, f"{where}.properties[{key}]", _embedded(sub), uncorrelatable)
        causes += problems
        if not child.empty():
            node.properties[key] = child
    items = schema.get("items")
    if isinstance(items, dict):
        # Only items of list-type map lists have an old value to compare with (validation.go validateArray).
        correlated = schema.get("x-kubernetes-list-type") == "map"
        below = uncorrelatable if correlated or uncorrelatable else f"{where}.items"
        child, problems = compile_schema(items, f"{where}.items", _embedded(items), below)
        causes += problems
        node.items = None if child.empty() else child
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        child, problems = compile_schema(extra, f"{where}.additionalProperties", _embedded(extra), uncorrelatable)
        causes += problems
        node.additional = None if child.empty() else child
    for index, sub in enumerate(schema.get("allOf") or []):
        if any(key in sub for key in ("properties", "items", "additionalProperties")):
            message = "Forbidden: not emulated by this development API server: rules below an allOf entry's properties"
            causes.append(cause(f"{where}.allOf[{index}]", message, _FORBIDDEN))
            continue
        # An allOf entry's rules validate the node's own value with the node's type (nestedToStructural).
        rules, problems = _rules(sub.get("x-kubernetes-validations"), schema, f"{where}.allOf[{index}]", root, None)
        causes += problems
        if rules:
            node.all_of.append(Node(schema, root, rules=rules))
    return node, causes


# --- evaluation ----------------------------------------------------------------------------------------------------

MAX_MESSAGE_BYTES = 5 * 1024  # celconfig.MaxEvaluatedMessageExpressionSizeBytes


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show_type(schema: Schema) -> str:
    return _go_string(str(schema.get("type") or ""))


def _field_error(path: str, schema: Schema, detail: str, reason: str | None) -> Cause:
    """fieldErrorForReason."""
    where = path or "<nil>"
    if reason == "FieldValueForbidden":
        return cause(where, f"Forbidden: {detail}", reason)
    if reason == "FieldValueRequired":
        return cause(where, f"Required value: {detail}", reason)
    if reason == "FieldValueDuplicate":
        return cause(where, f"Duplicate value: {_show_type(schema)}", reason)
    return cause(where, f"Invalid value: {_show_type(schema)}: {detail}")


def _message(rule: Rule, data: dict[str, Any]) -> str:
    """The failure message: messageExpression's result when it yields a usable string, else message or default."""
    if rule.message_program is not None:
        try:
            text = cel.evaluate(rule.message_program, data)
        except cel.EvalError:
            text = None  # kube-apiserver logs it and falls back
        if isinstance(text, str):
            text = text.strip()
            if text and "\n" not in text and len(text.encode()) <= MAX_MESSAGE_BYTES:
                return text
    return rule.message


def _expressions(node: Node, value: Any, old: Any, path: str, ratchet: bool, out: Findings) -> None:
    """validateExpressions: each rule of the node against `self` (and `oldSelf` when there is an old value)."""
    if not node.rules:
        return
    typed = cel.with_type_and_meta(node.schema) if node.root else node.schema
    try:
        data = {"self": cel.to_value(value, typed)}
        if old is not None:
            data["oldSelf"] = cel.to_value(old, typed)
    except ValueError as error:  # a date-time, duration or byte string CEL cannot read
        out.causes.append(cause(path or "<nil>", f"Invalid value: {_show_type(node.schema)}: {error}"))
        return
    for rule in node.rules:
        if rule.uses_old_self and old is None:
            continue  # transition rules need an old value
        where = path or "<nil>"
        try:
            result = cel.evaluate(rule.program, data)
        except (cel.EvalError, ValueError) as error:
            text = str(error)
            if text.startswith("no such overload"):
                detail = (
                    f"'{text}': call arguments did not match a supported operator, function or macro signature "
                    f"for rule: {rule.error_string}"
                )
            else:
                detail = f"{text} evaluating rule: {rule.error_string}"
            out.causes.append(cause(where, f"Invalid value: {_show_type(node.schema)}: {detail}"))
            continue
        if result is True:
            continue
        if result is not False:
            out.causes.append(
                cause(where, f"Invalid value: {_show_type(node.schema)}: cel expression must evaluate to a bool")
            )
            continue
        target = f"{path}.{rule.field_path.lstrip('.')}" if rule.field_path else path
        failure = _field_error(target, node.schema, _message(rule, data), rule.raw.get("reason"))
        if not rule.uses_old_self and ratchet:
            # An unchanged value keeps passing (CRD validation ratcheting): the server only warns.
            out.warnings.append(f"{failure['field']}: {failure['message']}")
        else:
            out.causes.append(failure)


def _old_items(node: Node, old: Any) -> dict[tuple[Any, ...], Any]:
    """Old items of a list-type map list by their keys (maplist.go); other lists correlate nothing."""
    keys = node.schema.get("x-kubernetes-list-map-keys") or []
    if node.schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return {}
    return {tuple(item.get(k) for k in keys): item for item in old if isinstance(item, dict)}


def _walk(node: Node, value: Any, old: Any, path: str, ratchet: bool, out: Findings) -> None:
    if value is None:
        return
    _expressions(node, value, old, path, ratchet, out)
    for extra in node.all_of:
        _expressions(extra, value, old, path, False, out)  # allOf errors are not ratcheted
    if isinstance(value, list) and node.items is not None:
        by_key = _old_items(node, old)
        keys = node.schema.get("x-kubernetes-list-map-keys") or []
        for index, item in enumerate(value):
            key = tuple(item.get(k) for k in keys) if isinstance(item, dict) and by_key else None
            old_item = by_key.get(key) if key is not None else None
            item_ratchet = (old_item is not None and old_item == item) if by_key else ratchet
            _walk(node.items, item, old_item, f"{path}[{index}]", item_ratchet, out)
    elif isinstance(value, dict):
        old_map = old if isinstance(old, dict) else {}
        if node.additional is not None:
            for key, item in value.items():
                previous = old_map.get(key)
                _walk(node.additional, item, previous, f"{path}[{key}]", previous is not None and previous == item, out)
        for key, item in value.items():
            child = node.properties.get(key)
            if child is not None:
                previous = old_map.get(key)
                _walk(child, item, previous, _child(path, key), previous is not None and previous == item, out)


@dataclass
class Findings:
    """What the rules found: errors that fail the write, and warnings (ratcheted errors) sent with it."""

    causes: list[Cause] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validate(
    tree: Node,
    obj: dict[str, Any],
    old: dict[str, Any] | None,
    schema_causes: list[Cause],
    warnings: list[str] | None = None,
) -> list[Cause]:
    """The CEL errors of a write (after the schema's own errors, which may block CEL altogether); the warnings
    of ratcheted errors are added to `warnings`."""
    if tree.empty():
        return []
    # schema.py reports type errors as FieldValueInvalid "... must be of type ..."; kube's TypeInvalid blocks CEL.
    if any(c.get("reason") in BLOCKING or "must be of type" in c.get("message", "") for c in schema_causes):
        return [cause("<nil>", f'Invalid value: "null": {BLOCKED}')]
    out = Findings()
    _walk(tree, obj, old, "", old is not None and old == obj, out)
    if warnings is not None:
        warnings.extend(w for w in out.warnings if w not in warnings)
    return out.causes


# --- hooks for the cluster -------------------------------------------------------------------------------------------

_TREES: dict[str, Node] = {}


def tree_for(schema: Schema) -> Node:
    """The compiled rules of a served schema (compiled once; the CRD was checked when it was written)."""
    key = json.dumps(schema, sort_keys=True)
    if key not in _TREES:
        _TREES[key] = compile_schema(schema, "openAPIV3Schema")[0]
    return _TREES[key]


def crd_causes(crd: dict[str, Any]) -> list[Cause]:
    """The errors of a CRD's x-kubernetes-validations, at the paths kube-apiserver reports.

    The internal CRD has one `spec.validation` when every version has the same schema, so errors name it.
    """
    versions = [v for v in (crd.get("spec") or {}).get("versions") or [] if isinstance(v, dict)]
    schemas = [(v.get("schema") or {}).get("openAPIV3Schema") for v in versions]
    same = all(s == schemas[0] for s in schemas)
    causes: list[Cause] = []
    for index, schema in enumerate(schemas):
        if isinstance(schema, dict):
            where = "spec.validation.openAPIV3Schema" if same else f"spec.versions[{index}].schema.openAPIV3Schema"
            causes += compile_schema(schema, where)[1]
        if same:
            break
    return causes
