"""One reason vocabulary: every reason atomesh writes is a documented constant of atomesh.api.conditions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import atomesh
from atomesh.api import conditions as c

PACKAGE = Path(atomesh.__file__).parent
CAMEL = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)*$")
# Calls whose argument at this position (or keyword `reason`) is a reason.
REASON_ARGUMENT = {"post_event": 2, "StepFailure": 0, "AgentEvent": 1, "condition": 2, "Failure": None}


def literal_reasons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        arguments = [kw.value for kw in node.keywords if kw.arg == "reason"]
        position = REASON_ARGUMENT.get(name, -1)
        if position is not None and position >= 0 and len(node.args) > position:
            arguments.append(node.args[position])
        if name not in REASON_ARGUMENT and not arguments:
            continue
        for argument in arguments:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value:
                found.append(f"{path.name}:{argument.lineno}: {argument.value!r}")
    return found


def test_no_reason_is_a_string_literal_outside_api() -> None:
    code = [path for path in PACKAGE.rglob("*.py") if path.parts[len(PACKAGE.parts)] not in ("api", "devstack")]
    assert len(code) > 50
    literals = [hit for path in code for hit in literal_reasons(path)]
    assert not literals, "use a constant of atomesh.api.conditions:\n" + "\n".join(literals)


def test_the_scan_finds_a_literal_reason(tmp_path: Path) -> None:
    """The check above is only as good as this scan."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        'post_event(body, "Normal", "Oops", "m")\nraise StepFailure("PushFailed", "m")\nFailure(reason="X")\n'
    )
    assert literal_reasons(sample) == ["sample.py:1: 'Oops'", "sample.py:2: 'PushFailed'", "sample.py:3: 'X'"]


def test_every_reason_is_camel_case_and_documented() -> None:
    source = Path(c.__file__).read_text(encoding="utf-8").splitlines()
    reasons = {
        name: value
        for name, value in vars(c).items()
        if name.isupper() and isinstance(value, str) and value not in (c.TRUE, c.FALSE, c.UNKNOWN)
    }
    types = {c.READY, c.RECONCILING, c.STALLED, c.RESOLVED_REFS, c.BUDGET_EXCEEDED, c.SUSPENDED}
    for name, value in reasons.items():
        assert CAMEL.match(value), f"{name} = {value!r}: reasons are CamelCase"
        if value in types and name != "SUSPEND_REASON":
            continue
        line = next(i for i, text in enumerate(source) if text.startswith(f"{name}: Final"))
        assert source[line - 1].startswith("#:"), f"{name}: document it with a #: comment (meaning, condition, phase)"


def test_step_failure_reasons_are_reasons() -> None:
    assert {value for value in vars(c).values() if isinstance(value, str)} >= c.STEP_FAILURE_REASONS
