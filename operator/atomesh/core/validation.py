"""Semantic checks of specs beyond what the schema says, shared by `atomesh lint` and the operator.

Every check takes user input and returns a list of FieldError (empty when valid); none raises for
bad input, so a controller can put the messages into a condition and a linter can print them.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from croniter import croniter
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from atomesh.api.agent import AgentSpec
from atomesh.api.common import parse_duration
from atomesh.core.triggers_check import check_event_triggers

Loc = tuple[str | int, ...]

# Roots an edge input expression may read from the upstream run (issue 7: its input, artifact, review).
JSON_SCHEMA_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


@dataclass(frozen=True)
class FieldError:
    """A problem with one field: where (`loc`, as keys and list indexes) and what is wrong and allowed."""

    loc: Loc
    message: str

    @property
    def path(self) -> str:
        """The field path as Kubernetes prints it, e.g. `spec.agents[1].name`."""
        return format_path(self.loc)


def format_path(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def check_cron(expression: str, loc: Loc) -> list[FieldError]:
    """A cron schedule: five fields, or a nickname such as @daily."""
    if len(expression.split()) not in (1, 5) or not croniter.is_valid(expression):
        return [
            FieldError(
                loc,
                f"invalid cron expression {expression!r}: use 5 fields (minute hour day-of-month month "
                "day-of-week), e.g. '0 6 * * 1-5', or @hourly, @daily, @weekly, @monthly, @yearly",
            )
        ]
    return []


def check_timezone(name: str, loc: Loc) -> list[FieldError]:
    """An IANA time zone such as Europe/Berlin."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return [FieldError(loc, f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Berlin")]
    return []


def check_duration(text: str, loc: Loc) -> list[FieldError]:
    """A duration such as 15m or 1h30m."""
    try:
        parse_duration(text)
    except ValueError as error:
        return [FieldError(loc, str(error))]
    return []


def check_json_schema(schema: Mapping[str, Any], loc: Loc) -> list[FieldError]:
    """A JSON Schema (draft 2020-12) that is itself valid."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        detail = error.message
        if error.path and error.path[-1] == "type":
            detail = f"{error.instance!r} is not a JSON Schema type; use one of: {', '.join(JSON_SCHEMA_TYPES)}"
        return [FieldError((*loc, *error.path), f"not a valid JSON Schema (draft 2020-12): {detail}")]
    return []


def check_input(instance: Mapping[str, Any], schema: Mapping[str, Any], loc: Loc) -> list[FieldError]:
    """A run's input against its agent's input schema: one error per violation, in a stable order."""
    if check_json_schema(schema, ()):
        return [FieldError(loc, "cannot check the input: the agent's spec.input.schema is not a valid JSON Schema")]
    validator = Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.path)), e.message))
    return [
        FieldError((*loc, *error.path), f"does not match the agent's input schema: {error.message}") for error in errors
    ]


def check_output_paths(paths: Sequence[str], loc: Loc) -> list[FieldError]:
    """Globs relative to the repository root; they bound what the artifact may touch."""
    return [
        FieldError((*loc, index), f"{path!r} must be relative to the repository root (no leading / and no ..)")
        for index, path in enumerate(paths)
        if path.startswith("/") or ".." in path.split("/")
    ]


def validate_agent_spec(spec: AgentSpec) -> list[FieldError]:
    """Checks of an Agent spec that the schema cannot express; locs start at `spec`."""
    errors: list[FieldError] = []
    errors += check_json_schema(spec.input.json_schema, ("spec", "input", "schema"))
    errors += check_output_paths(spec.output.paths, ("spec", "output", "paths"))
    if spec.triggers.schedule is not None:
        errors += check_cron(spec.triggers.schedule, ("spec", "triggers", "schedule"))
    errors += check_timezone(spec.triggers.timezone, ("spec", "triggers", "timezone"))
    errors += [
        FieldError(loc, message)
        for loc, message in check_event_triggers(
            spec.triggers.events, spec.input.json_schema, ("spec", "triggers", "events")
        )
    ]
    errors += check_duration(spec.limits.timeout, ("spec", "limits", "timeout"))
    seen: dict[str, int] = {}
    for index, check in enumerate(spec.review.checks):
        if check.name in seen:
            errors.append(
                FieldError(
                    ("spec", "review", "checks", index, "name"),
                    f"duplicate check name {check.name!r} (also checks[{seen[check.name]}]): names must be unique",
                )
            )
        seen.setdefault(check.name, index)
    return errors
