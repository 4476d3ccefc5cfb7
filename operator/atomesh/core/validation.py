"""Semantic checks of specs beyond what the schema says, shared by `atomesh lint` and the operator.

Every check takes user input and returns a list of FieldError (empty when valid); none raises for
bad input, so a controller can put the messages into a condition and a linter can print them.

Input schemas and run inputs are hostile until checked: a schema may refer (`$ref`, `$dynamicRef`)
only into itself (`#...`), never to a URL or file, and nothing is ever retrieved while validating
(the registry refuses); schemas and inputs are bounded in nesting depth and inputs in size before
any recursive code sees them, so validation ends, quickly, with errors rather than exceptions.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from croniter import croniter
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from atomesh.api.agent import AgentSpec
from atomesh.api.common import parse_duration
from atomesh.core.gatewaykey import check_virtual_key
from atomesh.core.repositories import repository_problem
from atomesh.core.triggers_check import check_event_triggers

Loc = tuple[str | int, ...]

# Roots an edge input expression may read from the upstream run (issue 7: its input, artifact, review).
JSON_SCHEMA_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
# Bounds on what validation accepts (hostile input must neither recurse without end nor take long).
MAX_SCHEMA_DEPTH = 64
MAX_INPUT_DEPTH = 32
MAX_INPUT_BYTES = 256 * 1024
MAX_INPUT_ERRORS = 10
# kopf deep-copies each object recursively (a few Python frames a level), so an object nested 900
# levels (the API server accepts far more) needs a higher recursion limit than Python's 1000. Not
# higher: code that recurses through C (generators, the json module) must still stop with a
# RecursionError well before a thread's stack runs out.
OBJECT_RECURSION_LIMIT = 4000
MAX_ERROR_MESSAGE = 240  # characters of one violation's message; a condition message holds a few
# A run longer than this is a mistake (and past what activeDeadlineSeconds or a timer can hold).
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef")
LOCAL_REFERENCE_FIX = "refer only into the schema itself: put the schema under $defs and use '#/$defs/NAME'"


class RetrievalRefused(Exception):
    """Raised by the registry for any reference outside the schema: nothing is fetched or read."""


def _refuse_retrieval(uri: str) -> Resource[Any]:
    raise RetrievalRefused(f"{uri!r} is not retrieved")


# Every validator gets this registry: it knows no resource and retrieves none.
NO_RETRIEVAL: Registry[Any] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


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


def check_duration(text: str, loc: Loc, limit: int = MAX_TIMEOUT_SECONDS) -> list[FieldError]:
    """A duration such as 15m or 1h30m, at most `limit` seconds."""
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        return [FieldError(loc, _shorten(str(error)))]
    if seconds > limit:
        return [FieldError(loc, f"{_shorten(text, 40)} is longer than {limit // 3600}h; use at most {limit // 3600}h")]
    return []


def _shorten(text: str, limit: int = MAX_ERROR_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply `value`'s lists and objects nest (a scalar is 0), counted without recursion and
    only up to `limit + 1`, so a hostile value costs at most its size."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth) for child in children)
    return deepest


def _references(schema: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Each `$ref`/`$dynamicRef` string in `schema`, with where it is."""
    stack: list[tuple[Any, Loc]] = [(schema, loc)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, Mapping):
            for key, child in item.items():
                if key in REFERENCE_KEYWORDS and isinstance(child, str):
                    yield (*where, key), child
                else:
                    stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, index)) for index, child in enumerate(item))


# Keywords that apply a subschema to the same instance location: a cycle through them never ends.
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
_IN_PLACE_ONE = ("not", "if", "then", "else")


def _pointer(root: Any, ref: str) -> Any:
    """The subschema a local `#/json/pointer` reference names, or None."""
    if not ref.startswith("#/") and ref != "#":
        return None
    node = root
    for raw in ref[2:].split("/") if ref != "#" else []:
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _in_place(root: Any, node: Mapping[str, Any]) -> Iterator[Any]:
    for key in REFERENCE_KEYWORDS:
        ref = node.get(key)
        if isinstance(ref, str):
            yield _pointer(root, ref)
    for key in _IN_PLACE_LISTS:
        children = node.get(key)
        if isinstance(children, list):
            yield from children
    for key in _IN_PLACE_ONE:
        yield node.get(key)
    dependent = node.get("dependentSchemas")
    if isinstance(dependent, Mapping):
        yield from dependent.values()


def has_reference_cycle(schema: Mapping[str, Any]) -> bool:
    """Whether references (through allOf, anyOf, oneOf, not, if/then/else) lead back to a subschema
    applied to the same instance: validating anything against it would recurse without end."""
    done: set[int] = set()
    for start, _ in _subschemas(schema):
        if id(start) in done:
            continue
        path: set[int] = set()
        stack: list[tuple[Mapping[str, Any], Iterator[Any]]] = [(start, _in_place(schema, start))]
        path.add(id(start))
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            while child is not None and (not isinstance(child, Mapping) or id(child) in done):
                child = next(children, None)
            if child is None:
                stack.pop()
                path.discard(id(node))
                done.add(id(node))
                continue
            if id(child) in path:
                return True
            path.add(id(child))
            stack.append((child, _in_place(schema, child)))
    return False


def _subschemas(schema: Any) -> Iterator[tuple[Mapping[str, Any], None]]:
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            yield item, None
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def check_schema_references(schema: Mapping[str, Any], loc: Loc) -> list[FieldError]:
    """References only into the schema itself: a URL or file would be fetched from the operator."""
    found = sorted(_references(schema, loc), key=lambda item: format_path(item[0]))
    return [
        FieldError(where, f"reference {ref!r} points outside the schema and is not fetched; {LOCAL_REFERENCE_FIX}")
        for where, ref in found
        if not ref.startswith("#")
    ]


def check_json_schema(schema: Mapping[str, Any], loc: Loc) -> list[FieldError]:
    """A JSON Schema (draft 2020-12) that is itself valid, bounded, and refers only into itself."""
    depth = nesting_depth(schema, MAX_SCHEMA_DEPTH)
    if depth > MAX_SCHEMA_DEPTH:
        return [FieldError(loc, f"the schema nests deeper than {MAX_SCHEMA_DEPTH} levels; flatten it with $defs")]
    references = check_schema_references(schema, loc)
    if references:
        return references
    if has_reference_cycle(schema):
        return [FieldError(loc, "the schema's references lead back to themselves without end; break the cycle")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        detail = error.message
        if error.path and error.path[-1] == "type":
            detail = f"{error.instance!r} is not a JSON Schema type; use one of: {', '.join(JSON_SCHEMA_TYPES)}"
        return [FieldError((*loc, *error.path), f"not a valid JSON Schema (draft 2020-12): {detail}")]
    return []


def check_input_bounds(instance: Any, loc: Loc) -> list[FieldError]:
    """A run's input nests at most MAX_INPUT_DEPTH levels and serialises to at most MAX_INPUT_BYTES."""
    depth = nesting_depth(instance, MAX_INPUT_DEPTH)
    if depth > MAX_INPUT_DEPTH:
        return [
            FieldError(loc, f"the input nests deeper than {MAX_INPUT_DEPTH} levels; pass deep data as a string or file")
        ]
    size = len(json.dumps(instance, ensure_ascii=False).encode())
    if size > MAX_INPUT_BYTES:
        return [
            FieldError(
                loc,
                f"the input is {size} bytes, over {MAX_INPUT_BYTES}; pass large data by reference (a repository path)",
            )
        ]
    return []


def check_input(instance: Mapping[str, Any], schema: Mapping[str, Any], loc: Loc) -> list[FieldError]:
    """A run's input against its agent's input schema: one error per violation (at most
    MAX_INPUT_ERRORS, then a count), in a stable order."""
    bounds = check_input_bounds(instance, loc)
    if bounds:
        return bounds
    problems = check_json_schema(schema, ())
    if problems:
        detail = f"{problems[0].path or 'schema'}: {problems[0].message}"
        return [FieldError(loc, f"cannot check the input: the agent's spec.input.schema is invalid ({detail})")]
    validator = Draft202012Validator(schema, registry=NO_RETRIEVAL)
    try:
        found = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.path)), e.message))
    except Unresolvable as error:
        return [FieldError(loc, f"cannot check the input: the schema's reference {error.ref!r} does not resolve")]
    except RecursionError:
        return [FieldError(loc, "cannot check the input: the agent's spec.input.schema refers to itself without end")]
    errors = [
        FieldError((*loc, *error.path), f"does not match the agent's input schema: {_shorten(error.message)}")
        for error in found[:MAX_INPUT_ERRORS]
    ]
    if len(found) > MAX_INPUT_ERRORS:
        errors.append(FieldError(loc, f"and {len(found) - MAX_INPUT_ERRORS} more violations of the input schema"))
    return errors


def check_output_paths(paths: Sequence[str], loc: Loc) -> list[FieldError]:
    """Globs relative to the repository root; they bound what the artifact may touch."""
    return [
        FieldError((*loc, index), f"{path!r} must be relative to the repository root (no leading / and no ..)")
        for index, path in enumerate(paths)
        if path.startswith("/") or ".." in path.split("/")
    ]


def check_pages(spec: AgentSpec) -> list[FieldError]:
    """review.pages: root and build.outputDir stay inside the repository; a build ends within the run."""
    pages = spec.review.pages
    if pages is None:
        return []
    loc: Loc = ("spec", "review", "pages")
    folders = [((*loc, "root"), pages.root)]
    if pages.build is not None:
        folders.append(((*loc, "build", "outputDir"), pages.build.output_dir))
    errors = [
        FieldError(where, f"{folder!r} must be a relative folder (no leading / and no ..)")
        for where, folder in folders
        if folder.startswith("/") or ".." in folder.split("/")
    ]
    if pages.build is not None:
        where = (*loc, "build", "timeout")
        try:
            seconds, limit = parse_duration(pages.build.timeout), parse_duration(spec.limits.timeout)
        except ValueError:  # the schema checks build.timeout; a bad spec.limits.timeout is reported on its field
            return errors
        if seconds > limit:
            errors.append(
                FieldError(
                    where,
                    f"{pages.build.timeout} is longer than spec.limits.timeout ({spec.limits.timeout}):"
                    " each side's build must end within the run",
                )
            )
    return errors


def check_repository(repo: str, loc: Loc, allowed_hosts: Collection[str] | None = None) -> list[FieldError]:
    """A repository the operator or runner may fetch (core.repositories); any host when None."""
    problem = repository_problem(repo, allowed_hosts)
    return [FieldError(loc, problem)] if problem else []


def validate_agent_spec(spec: AgentSpec, allowed_hosts: Collection[str] | None = None) -> list[FieldError]:
    """Checks of an Agent spec that the schema cannot express; locs start at `spec`. `allowed_hosts`:
    the operator's repository hosts (None, as for the linter, checks everything but the host)."""
    errors: list[FieldError] = []
    errors += check_repository(spec.workspace.repo, ("spec", "workspace", "repo"), allowed_hosts)
    if spec.source is not None:
        errors += check_repository(spec.source.repo, ("spec", "source", "repo"), allowed_hosts)
    errors += check_json_schema(spec.input.json_schema, ("spec", "input", "schema"))
    errors += check_output_paths(spec.output.paths, ("spec", "output", "paths"))
    if spec.triggers.schedule is not None:
        errors += check_cron(spec.triggers.schedule, ("spec", "triggers", "schedule"))
    errors += check_timezone(spec.triggers.timezone, ("spec", "triggers", "timezone"))
    if spec.budget is not None:
        errors += check_timezone(spec.budget.timezone, ("spec", "budget", "timezone"))
    errors += [
        FieldError(loc, message)
        for loc, message in check_event_triggers(
            spec.triggers.events, spec.input.json_schema, ("spec", "triggers", "events")
        )
    ]
    errors += check_duration(spec.limits.timeout, ("spec", "limits", "timeout"))
    errors += [FieldError(loc, message) for loc, message in check_virtual_key(spec)]
    errors += check_pages(spec)
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
