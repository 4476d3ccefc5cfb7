"""Checks of `spec.triggers.events` that the CRD schema cannot express, for `atomesh lint` and the operator.

Invariants:
- Every CEL expression (filter, input values) must compile; the problem is reported at its field
  (`spec.triggers.events[0].input.issue`) with the compiler's message.
- Input keys must name properties of `spec.input.schema` when it declares any and forbids others
  (`additionalProperties: false`), so a typo is found before the first delivery.
- Narrowings that an event never has are errors, not silently ignored: `paths` is for push,
  `conclusions` for check_run and check_suite, `command` for issue_comment, `labels` for issues and
  pull_request; `publish: pullRequestBranch` needs an event that names a pull request.
Problems are (loc, message) pairs; core.validation makes them FieldErrors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomesh.api.rules import PUBLISH_NEEDS_PULL_REQUEST
from atomesh.api.triggers import PULL_REQUEST_BRANCH_EVENTS, EventTrigger
from atomesh.core.triggers_cel import check_expression

Loc = tuple[str | int, ...]
NARROWINGS: dict[str, tuple[str, ...]] = {
    "paths": ("push",),
    "conclusions": ("check_run", "check_suite"),
    "command": ("issue_comment",),
    "labels": ("issues", "pull_request"),
}


def check_event_triggers(triggers: list[EventTrigger], schema: Mapping[str, Any], loc: Loc) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    properties = schema.get("properties")
    closed = isinstance(properties, Mapping) and schema.get("additionalProperties") is False
    for index, trigger in enumerate(triggers):
        at = (*loc, index)
        if trigger.filter is not None:
            error = check_expression(trigger.filter)
            if error:
                problems.append(((*at, "filter"), error))
        for key in sorted(trigger.input):
            error = check_expression(trigger.input[key])
            if error:
                problems.append(((*at, "input", key), error))
            if closed and isinstance(properties, Mapping) and key not in properties:
                known = ", ".join(sorted(properties)) or "none"
                problems.append(((*at, "input", key), f"is not a property of spec.input.schema (properties: {known})"))
        github = trigger.github
        if trigger.publish == "pullRequestBranch" and (
            github is None or github.event not in PULL_REQUEST_BRANCH_EVENTS
        ):
            problems.append(((*at, "publish"), PUBLISH_NEEDS_PULL_REQUEST))
        if github is None:
            continue
        for field, events in NARROWINGS.items():
            if getattr(github, field) and github.event not in events:
                problems.append(
                    ((*at, "github", field), f"does not apply to {github.event} events (only to {', '.join(events)})")
                )
    return problems
