"""CEL for CRD `x-kubernetes-validations`: the Kubernetes CEL environment, rule compilation and evaluation.

Follows kube-apiserver's sources:
- apiextensions-apiserver `pkg/apiserver/schema/cel/compilation.go` (compileRule: `compilation failed: <issues>`,
  `cel expression must evaluate to a bool`, messageExpression, fieldPath, whether a rule uses `oldSelf`);
- apiserver `pkg/cel/common/schemas.go` (SchemaDeclType: the CEL type of a schema node, `apiVersion`, `kind`,
  `metadata.name` and `metadata.generateName` at a resource root) and `pkg/cel/escaping.go` (property names);
- apiextensions-apiserver `pkg/apiserver/schema/cel/values.go` and apiserver `pkg/cel/value.go` (unstructured
  JSON to CEL values; a missing field is `no such key: <name>`);
- apiserver `pkg/cel/environment/base.go` (the libraries: strings v2, optionals, Kubernetes lists, ...).

Evaluation is Google's cel-cpp (cel-expr-python). Where it differs from cel-go as Kubernetes configures it, this
module refuses with NotEmulated instead of answering differently: Kubernetes library functions that are not
implemented here (url, quantity, ip, cidr, regex find, sets, format, semver, authorizer), `optionalOldSelf`,
cross-type numeric comparisons, and cost estimation for rules that nest comprehensions over lists without
`maxItems`. Objects are typed as `map(string, dyn)`; celchains finds undeclared fields of `self.a.b` chains and
types the fields such chains end on, as cel-go's struct types would.

Known differences that are not refused: type errors on fields reached through index expressions
(`self.items[0].size == 'a'`) are found by kube-apiserver when the CRD is written and not here; equality
and `+` of lists with `x-kubernetes-list-type: set|map` follow plain list semantics here (kube-apiserver ignores
their order); heterogeneous list literals (`[1, 'a']`) compile here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_optional, ext_strings

from atomesh.devstack.kube import celchains
from atomesh.devstack.kube.celchains import escape

Schema = dict[str, Any]
T = cel.Type

# Functions of the Kubernetes CEL libraries (apiserver pkg/cel/library) that the emulator does not implement.
_LIBRARY_FUNCTIONS = (
    "url isURL getScheme getHost getHostname getPort getEscapedPath getQuery find findAll quantity isQuantity sign "
    "isGreaterThan isLessThan compareTo asApproximateFloat asInteger isInteger add sub ip isIP cidr isCIDR family "
    "isUnspecified isLoopback isLinkLocalMulticast isLinkLocalUnicast isGlobalUnicast containsIP containsCIDR masked "
    "prefixLength named validate semver isSemver major minor patch authorizer path group resource check allowed "
    "reason errored serviceAccount sets"
)
NOT_EMULATED_FUNCTIONS = frozenset(_LIBRARY_FUNCTIONS.split())
_COMPREHENSIONS = re.compile(r"\.\s*(all|exists|exists_one|map|filter)\s*\(")
_STATUS_PREFIX = re.compile(r"^[A-Z_]+: ")


class NotEmulated(Exception):
    """A CEL feature kube-apiserver has and this emulator does not; the message names it."""


def with_type_and_meta(schema: Schema) -> Schema:
    """A resource root as CEL sees it: apiVersion, kind, metadata.name and metadata.generateName only."""
    string: Schema = {"type": "string"}
    properties = dict(schema.get("properties") or {})
    properties.update(
        apiVersion=string,
        kind=string,
        metadata={"type": "object", "properties": {"name": string, "generateName": string}},
    )
    return {**schema, "properties": properties}


def decl_type(schema: Schema) -> tuple[Any, str] | None:
    """The CEL type of a schema node and a key naming it (SchemaDeclType), or None when CEL cannot see the node.

    Objects with properties are `map(string, dyn)`: cel-cpp has no schema-defined struct types, so their fields
    are checked lexically (celchains).
    """
    if schema.get("x-kubernetes-int-or-string"):
        return T.DYN, "dyn"
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        element = decl_type(items) if isinstance(items, dict) else None
        return None if element is None else (T.List(element[0]), f"list({element[1]})")
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            value = decl_type(extra)
            return None if value is None else (T.Map(T.STRING, value[0]), f"map(string,{value[1]})")
        return T.Map(T.STRING, T.DYN), "map(string,dyn)"
    if kind == "string":
        name = {"byte": "bytes", "duration": "duration", "date": "timestamp", "date-time": "timestamp"}.get(
            schema.get("format", ""), "string"
        )
        return _SCALARS[name], name
    name = {"boolean": "bool", "number": "double", "integer": "int"}.get(kind or "", "")
    return (_SCALARS[name], name) if name else None


_SCALARS = {
    "bytes": T.BYTES,
    "duration": T.DURATION,
    "timestamp": T.TIMESTAMP,
    "string": T.STRING,
    "bool": T.BOOL,
    "double": T.DOUBLE,
    "int": T.INT,
}


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _go_duration(text: str) -> timedelta:
    """A Go duration string (time.ParseDuration), as `format: duration` values are."""
    body = text.lstrip("+-")
    if body == "0":
        return timedelta()
    parts = _DURATION.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ValueError(f"invalid duration {text!r}")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    return timedelta(seconds=-seconds if text.startswith("-") else seconds)


def _string_value(value: str, fmt: str) -> Any:
    if fmt == "byte":
        return base64.b64decode(value)
    if fmt == "duration":
        return _go_duration(value)
    if fmt in ("date", "date-time"):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value


def to_value(value: Any, schema: Schema) -> Any:
    """JSON of an object node as the CEL value a rule sees (UnstructuredToVal): declared, escaped fields only."""
    if value is None or schema.get("x-kubernetes-int-or-string"):
        return value
    kind = schema.get("type")
    if kind == "array" and isinstance(value, list):
        items = schema.get("items") or {}
        return [to_value(item, items) for item in value]
    if kind == "object" and isinstance(value, dict):
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return {key: to_value(item, extra) for key, item in value.items()}
        properties: dict[str, Schema] = schema.get("properties") or {}
        result: dict[str, Any] = {}
        for key, item in value.items():
            sub, name = properties.get(key), escape(key)
            if sub is not None and name is not None and decl_type(sub) is not None:
                result[name] = to_value(item, sub)
        return result
    if kind == "string" and isinstance(value, str):
        return _string_value(value, schema.get("format", ""))
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


# --- the Kubernetes lists library (apiserver pkg/cel/library/lists.go) -------------------------------------------


def _sorted(items: list[Any]) -> bool:
    return all(items[i] <= items[i + 1] for i in range(len(items) - 1))


def _extreme(pick: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    def impl(items: list[Any]) -> Any:
        if not items:
            raise ValueError("no such overload")  # cel-go: min/max of an empty list is an error
        return pick(list(items))

    return impl


def _member(name: str, result: Any, impl: Callable[..., Any], *params: Any) -> Any:
    overload = cel.Overload(f"list_{name}", result, [T.List(T.DYN), *params], is_member=True, impl=impl)
    return cel.FunctionDecl(name, [overload])


def _lists_library() -> list[Any]:
    return [
        _member("isSorted", T.BOOL, lambda items: _sorted(list(items))),
        _member("sum", T.DYN, lambda items: sum(list(items))),
        _member("min", T.DYN, _extreme(min)),
        _member("max", T.DYN, _extreme(max)),
    ]


def _new_environment(variables: dict[str, Any]) -> Any:
    return cel.NewEnv(
        variables=variables,
        # Kubernetes >= 1.29 has strings version 2 (base.go); later versions add functions it does not have.
        extensions=[ext_strings.ExtStrings(version=2), ext_optional.ExtOptional()],
        functions=_lists_library(),
    )


_ENVIRONMENTS: dict[str, Any] = {}


def environment(schema: Schema) -> Any:
    """The CEL environment of rules on `schema`: `self` and `oldSelf` of its type, Kubernetes' libraries."""
    declared = decl_type(schema)
    if declared is None:
        raise NotEmulated("a rule on a schema node that CEL cannot type")
    self_type, key = declared
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = _new_environment({"self": self_type, "oldSelf": self_type})
    return _ENVIRONMENTS[key]


def _typed_check(expression: str, schema: Schema) -> tuple[str, str]:
    """Issues of the expression with its field chains typed (celchains.placeholders), and its result type."""
    rewritten, fields = celchains.placeholders(expression, schema)
    declared = decl_type(schema)
    if not fields or declared is None:
        return "", ""
    variables = {"self": declared[0], "oldSelf": declared[0]}
    for name, node in fields.items():
        field_type = decl_type(node)
        variables[name] = T.DYN if field_type is None else field_type[0]
    try:
        program = _new_environment(variables).compile(rewritten)
    except RuntimeError as error:
        return celchains.restore(_issues(error), rewritten, expression), ""
    return "", _type_name(program.return_type())


def _type_name(value: Any) -> str:
    return value.name() if hasattr(value, "name") else str(value)


def _issues(error: Exception) -> str:
    """cel-cpp's status text as cel-go's issues.String(): `ERROR: <input>:L:C: ...` with the source lines."""
    text = _STATUS_PREFIX.sub("", str(error), count=1)
    return text.removesuffix(" [INVALID_ARGUMENT]")


def _refuse_unemulated(issues: str) -> None:
    for name in re.findall(r"undeclared reference to '([\w.]+)'", issues):
        if name in NOT_EMULATED_FUNCTIONS or name.split(".")[0] in NOT_EMULATED_FUNCTIONS:
            raise NotEmulated(f"the Kubernetes CEL library function {name}() is not emulated")
    if re.search(r"no matching overload for '_[<>=!]+_' applied to '\((int|uint|double), (int|uint|double)\)'", issues):
        raise NotEmulated("cross-type numeric comparisons (cel.CrossTypeNumericComparisons) are not emulated")
    if re.search(r"no matching overload for '(last)?[iI]ndexOf' applied to '\(list", issues):
        # cel-cpp declares indexOf for strings only; a second declaration for lists is refused.
        raise NotEmulated("indexOf()/lastIndexOf() of the Kubernetes lists library are not emulated")


def _nests_unbounded_comprehensions(expression: str, schema: Schema) -> bool:
    if len(_COMPREHENSIONS.findall(celchains.code(expression))) < 2:
        return False

    def unbounded(node: Schema) -> bool:
        if node.get("type") == "array" and "maxItems" not in node:
            return True
        children = [*(node.get("properties") or {}).values(), node.get("items"), node.get("additionalProperties")]
        return any(isinstance(child, dict) and unbounded(child) for child in children)

    return unbounded(schema)


@dataclass(frozen=True)
class Compiled:
    """One expression compiled against a schema node: a program, or kube-apiserver's error detail."""

    program: Any = None
    error: str = ""


def compile_expression(expression: str, schema: Schema, *, want: str) -> Compiled:
    """Compile a rule (`want="bool"`) or a messageExpression (`want="string"`) for `self` of `schema`."""
    env = environment(schema)
    prefix = "compilation failed: " if want == "bool" else "messageExpression compilation failed: "
    try:
        env.compile(expression, disable_check=True)  # syntax errors come first, as cel-go parses before checking
    except RuntimeError as error:
        return Compiled(error=prefix + _issues(error))
    undefined = celchains.undefined_fields(expression, schema)
    if undefined:
        return Compiled(error=prefix + "\n".join(undefined))
    typed_issues, typed_result = _typed_check(expression, schema)
    try:
        program = None if typed_issues else env.compile(expression)
    except RuntimeError as error:
        typed_issues = _issues(error)
    if typed_issues or program is None:  # the typed issues name the fields' types, as cel-go's do
        _refuse_unemulated(typed_issues)
        return Compiled(error=prefix + typed_issues)
    result = typed_result or _type_name(program.return_type())
    if result not in (want.upper(), "DYN"):
        if want == "bool":
            return Compiled(error="cel expression must evaluate to a bool")
        return Compiled(error="messageExpression must evaluate to a string")
    if _nests_unbounded_comprehensions(expression, schema):
        raise NotEmulated(
            "CEL cost estimation is not emulated, and this expression nests comprehensions over a list without "
            "maxItems, which kube-apiserver may reject as over its cost budget; bound the lists with maxItems"
        )
    return Compiled(program=program)


_RUNTIME_ERRORS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r'Key not found in map : "?(.*?)"?$'), lambda m: f"no such key: {m.group(1)}"),
    (re.compile(r"divide by zero|division by zero"), lambda m: "division by zero"),
    (re.compile(r"No matching overloads found|no matching overload"), lambda m: "no such overload"),
    (re.compile(r"Index error: index=(-?\d+)"), lambda m: f"index out of bounds: {m.group(1)}"),
)


class EvalError(Exception):
    """A rule or message expression failed at runtime; the message is cel-go's wording where known."""


def _runtime_message(text: str) -> str:
    text = _STATUS_PREFIX.sub("", text, count=1)
    for pattern, wording in _RUNTIME_ERRORS:
        found = pattern.search(text)
        if found:
            return wording(found)
    return text


def evaluate(program: Any, data: dict[str, Any]) -> Any:
    """The plain result of a compiled expression; EvalError carries the runtime error."""
    try:
        result = program.eval(data=data)
    except RuntimeError as error:
        raise EvalError(_runtime_message(str(error))) from error
    if _type_name(result.type()) == "ERROR":
        raise EvalError(_runtime_message(str(result.plain_value())))
    return result.plain_value()
