"""CEL for event triggers: compiling and evaluating a trigger's `filter` and `input` expressions.

Invariants:
- One environment: `payload` (dyn: the delivery's JSON body), `event`, `action`, `sender` (strings) and
  `args` (map of string to string: a slash command's key=value words), with the CEL standard library
  and the strings extension. An expression naming anything else fails to compile.
- Compilation is checked (a typo is found by `atomesh lint`, not by the first delivery); programs are
  cached by their text, so a delivery never compiles an expression twice.
- Evaluation never raises anything but `TriggerExpressionError`, whose message says which expression
  failed and why (a missing payload field is `no such key: <name>`), so a bad mapping becomes an Event
  and a reply, never a crashed handler.
- Mesh edge inputs keep their `${upstream.<field>}` templates (core.meshexpr): those read a fixed,
  typed set of a run's fields and are checked against the mesh graph; trigger expressions read an
  open-ended JSON payload, which needs a real language.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cel_expr_python import cel
from cel_expr_python.ext import ext_strings

VARIABLES = ("payload", "event", "action", "sender", "args")
_STATUS_PREFIX = re.compile(r"^[A-Z_]+: ")
_MISSING_KEY = re.compile(r'Key not found in map : "?(.*?)"?$')


class TriggerExpressionError(ValueError):
    """An expression that does not compile, or failed on a delivery; the message says why."""


@dataclass(frozen=True)
class Activation:
    """What an expression sees of one delivery."""

    payload: Mapping[str, Any]
    event: str
    action: str = ""
    sender: str = ""
    args: Mapping[str, str] | None = None

    def data(self) -> dict[str, Any]:
        return {
            "payload": _plain(self.payload),
            "event": self.event,
            "action": self.action,
            "sender": self.sender,
            "args": dict(self.args or {}),
        }


def _plain(value: Any) -> Any:
    """JSON as CEL wants it: integers that are whole stay int, the rest as JSON gives them."""
    return json.loads(json.dumps(value))


@functools.cache
def _environment() -> Any:
    T = cel.Type
    return cel.NewEnv(
        variables={
            "payload": T.DYN,
            "event": T.STRING,
            "action": T.STRING,
            "sender": T.STRING,
            "args": T.Map(T.STRING, T.STRING),
        },
        extensions=[ext_strings.ExtStrings(version=2)],
    )


def _message(error: Exception) -> str:
    text = _STATUS_PREFIX.sub("", str(error).strip(), count=1)
    missing = _MISSING_KEY.search(text)
    if missing:
        return f"no such key: {missing.group(1)}"
    return " ".join(text.split())


@functools.lru_cache(maxsize=512)
def _compile(expression: str) -> Any:
    try:
        return _environment().compile(expression)
    except RuntimeError as error:
        raise TriggerExpressionError(f"CEL expression {expression!r} does not compile: {_message(error)}") from None


def check_expression(expression: str) -> str | None:
    """Why an expression does not compile, or None."""
    try:
        _compile(expression)
    except TriggerExpressionError as error:
        return str(error)
    return None


def evaluate(expression: str, activation: Activation) -> Any:
    """The plain (JSON-like) value of an expression for a delivery."""
    program = _compile(expression)
    try:
        result = program.eval(data=activation.data())
    except RuntimeError as error:
        raise TriggerExpressionError(f"{expression!r}: {_message(error)}") from None
    if str(result.type()).upper().endswith("ERROR"):
        raise TriggerExpressionError(f"{expression!r}: {_message(Exception(result.plain_value()))}")
    return _json_value(result.plain_value())


def _json_value(value: Any) -> Any:
    """CEL values a run input can hold (maps, lists, strings, numbers, booleans, null)."""
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def matches(expression: str, activation: Activation) -> bool:
    """A filter's verdict; a filter that is not a bool is an error, not a silent false."""
    value = evaluate(expression, activation)
    if not isinstance(value, bool):
        raise TriggerExpressionError(f"filter {expression!r} must evaluate to a bool, not {type(value).__name__}")
    return value
