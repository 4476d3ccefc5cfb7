"""GitHub's official API descriptions, as `make harnesses` installs them from npm, made ready for
`jsonschema`: the REST description (`@octokit/openapi`, OpenAPI 3.0) and the webhook description
(`@octokit/openapi-webhooks`, OpenAPI 3.1).

OpenAPI 3.0 spells "or null" as `nullable: true`, which JSON Schema does not know; it is rewritten
into JSON Schema's own form (a `"null"` type, `null` in an enum, or `anyOf` with a null schema) so one
Draft 2020-12 validator serves both descriptions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[2]
REST_FILE = ROOT / "node_modules/@octokit/openapi/generated/api.github.com.json"
WEBHOOKS_FILE = ROOT / "node_modules/@octokit/openapi-webhooks/generated/api.github.com.json"
FIX = "GitHub's API descriptions are npm devDependencies of the harness package: run `make harnesses`"
Json = dict[str, Any]


class DescriptionsMissing(RuntimeError):
    pass


def _load(path: Path) -> Json:
    if not path.is_file():
        raise DescriptionsMissing(f"{path} is missing. {FIX}.")
    data: Json = json.loads(path.read_text())
    return data


def without_nullable(node: Any) -> Any:
    """A copy of an OpenAPI 3.0 schema tree with `nullable: true` in JSON Schema's terms."""
    if isinstance(node, list):
        return [without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: without_nullable(value) for key, value in node.items()}
    if out.pop("nullable", None) is not True:
        return out
    if isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    # No type of its own (an allOf/$ref wrapper): null is one more alternative.
    return {"anyOf": [out, {"type": "null"}]}


def with_event_types(rest: Json) -> Json:
    """The `event` schema (the events API) with its payload chosen by the event's `type`.

    GitHub describes `payload` as a `oneOf` of sixteen schemas, none closed to other properties, so a
    real IssueCommentEvent payload (action, issue, comment) also satisfies `issues-event` and fails
    `oneOf`. The `type` names the payload's schema (each schema's title: IssuesEvent, PushEvent, ...),
    so each payload is held to exactly the schema its type names, and an unknown type to any of them."""
    schemas = rest["components"]["schemas"]
    event = schemas["event"]
    options = event["properties"]["payload"].pop("oneOf")
    event["properties"]["payload"]["anyOf"] = options
    event["allOf"] = [
        {
            "if": {"properties": {"type": {"const": schemas[option["$ref"].rsplit("/", 1)[-1]]["title"]}}},
            "then": {"properties": {"payload": option}},
        }
        for option in options
    ]
    return rest


LEGACY_REFS = re.compile(r"(?P<repo>/repos/[^/]+/[^/]+)/git/refs(?:/(?P<ref>.+))?")


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # the description's path, e.g. /repos/{owner}/{repo}/pulls/{pull_number}
    operation_id: str
    spec: Json


@dataclass(frozen=True)
class Webhook:
    key: str  # the description's name, e.g. pull-request-opened
    operation_id: str  # e.g. pull-request/opened
    headers: tuple[tuple[str, bool], ...]  # (name, required)
    schema: Json


class Descriptions:
    def __init__(self, rest_file: Path = REST_FILE, webhooks_file: Path = WEBHOOKS_FILE) -> None:
        rest = with_event_types(without_nullable(_load(rest_file)))
        hooks = _load(webhooks_file)
        self.rest = Draft202012Validator(rest)
        self.hooks = Draft202012Validator(hooks)
        self.components: Json = rest["components"]
        self._routes: list[tuple[re.Pattern[str], re.Pattern[str], int, str, Json]] = []
        for template, item in rest["paths"].items():
            literal = len(re.sub(r"\{[^}]+\}", "", template))
            param = r"\\\{[^}]+\\\}"
            strict = re.sub(param, "[^/]+", re.escape(template))
            # A parameter that is a ref, a branch or a file path may hold slashes, as on GitHub.
            slashed = r"\\\{(?:ref|branch|path|basehead)\\\}"
            loose = re.sub(param, "[^/]+", re.sub(slashed, ".+", re.escape(template)))
            self._routes.append((re.compile(strict + "$"), re.compile(loose + "$"), literal, template, item))
        self._routes.sort(key=lambda route: -route[2])
        self.webhooks: dict[str, Webhook] = {}
        for key, item in hooks["webhooks"].items():
            post = item["post"]
            headers = tuple((p["name"], bool(p.get("required"))) for p in post["parameters"] if p["in"] == "header")
            schema = post["requestBody"]["content"]["application/json"]["schema"]
            self.webhooks[post["operationId"]] = Webhook(key, post["operationId"], headers, schema)

    def operation(self, method: str, path: str, body: object = None) -> Operation | None:
        """The operation of the description that answers `method path`, most literal path first.

        GitHub still serves the legacy `GET /repos/{owner}/{repo}/git/refs[/{prefix}]` (PyGithub's
        `get_git_refs` calls it) but describes only its successors: it is held to `git/get-ref` when
        it answers one ref, to `git/list-matching-refs` when it answers a list."""
        legacy = LEGACY_REFS.fullmatch(path) if method.upper() == "GET" else None
        if legacy is not None:
            kind = "ref" if isinstance(body, dict) else "matching-refs"
            path = f"{legacy['repo']}/git/{kind}/{legacy['ref'] or 'heads'}"
        for loose in (False, True):
            for strict_pattern, loose_pattern, _, template, item in self._routes:
                if (loose_pattern if loose else strict_pattern).match(path):
                    spec = item.get(method.lower())
                    if isinstance(spec, dict):
                        return Operation(method.upper(), template, str(spec.get("operationId")), spec)
        return None

    def response(self, spec: Json) -> Json:
        """A response object, its `$ref` into components/responses followed."""
        ref = spec.get("$ref")
        if isinstance(ref, str):
            resolved: Json = self.components["responses"][ref.rsplit("/", 1)[-1]]
            return resolved
        return spec

    def webhook(self, event: str, action: str | None) -> Webhook | None:
        name = event.replace("_", "-")
        spelled = (action or "").replace("_", "-")
        return self.webhooks.get(f"{name}/{spelled}") or self.webhooks.get(name)


@cache
def descriptions() -> Descriptions:
    """Loaded once per test process (a few hundred milliseconds), on the first exchange checked."""
    return Descriptions()
