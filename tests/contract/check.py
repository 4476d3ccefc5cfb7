"""Hold one exchange of the GitHub emulator (a REST response or a webhook delivery) to GitHub's
description; each finding names the operation, the JSON pointer into the body and the schema rule.

Rules beyond the schemas, each from GitHub's documentation:
- every REST response carries `X-GitHub-Request-Id` and the primary rate-limit headers
  (`x-ratelimit-limit`, `-remaining`, `-used`, `-reset`, `-resource`), "returned with each response";
- a header the operation's response declares as `Location` is sent (a 201 says where the new thing is);
- an error status the operation does not list (401, a rate-limit 403 or 429, ...), or lists without
  a body, still has GitHub's error body (`basic-error`): the description lists only the errors
  peculiar to each operation, and not always their body;
- any GET may be answered 304 Not Modified, without a body, when its `If-None-Match` or
  `If-Modified-Since` matches ("conditional requests"), whether or not the operation lists 304;
- a delivery carries every header the webhook description requires, except `X-Hub-Signature-256`,
  which GitHub sends only for a hook with a secret (when present it is `sha256=` and 64 hex digits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from atomesh.devstack.github.traffic import Exchange

from .descriptions import Descriptions, Operation

EVERY_RESPONSE = (
    "X-GitHub-Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Used",
    "X-RateLimit-Reset",
    "X-RateLimit-Resource",
)
BASIC_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/basic-error"}}}
SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
MAX_FINDINGS = 12


@dataclass(frozen=True)
class Finding:
    subject: str  # "POST /repos/{owner}/{repo}/pulls (pulls/create) 201" or "webhook pull-request/opened"
    pointer: str  # JSON pointer into the body, "" for the whole body, "header X" for a header
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: at {self.pointer or '/'}: {self.rule}: {self.message}"


def _pointer(error: ValidationError) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)


def _schema_findings(subject: str, errors: Iterable[ValidationError]) -> list[Finding]:
    findings = []
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        # For oneOf/anyOf the leaf that came closest says more than "is not valid under any".
        leaf = best_match(error.context) if error.context else error
        assert leaf is not None
        title = leaf.schema.get("title") if isinstance(leaf.schema, dict) else None
        rule = f"{leaf.validator}" + (f' of "{title}"' if title else "")
        message = leaf.message if len(leaf.message) < 240 else leaf.message[:237] + "..."
        findings.append(Finding(subject, _pointer(leaf), rule, message))
    return findings


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _json(subject: str, body: bytes) -> tuple[Any, list[Finding]]:
    try:
        return json.loads(body), []
    except ValueError as exc:
        return None, [Finding(subject, "", "application/json", f"body is not JSON: {exc}")]


def check_response(descriptions: Descriptions, exchange: Exchange) -> list[Finding]:
    try:
        parsed: Any = json.loads(exchange.body) if exchange.body else None
    except ValueError:
        parsed = None
    operation = descriptions.operation(exchange.method, exchange.path, parsed)
    if operation is None:
        route = f" (emulator route {exchange.route})" if exchange.route else ""
        subject = f"{exchange.method} {exchange.path}{route}"
        return [Finding(subject, "", "operation", "no operation of GitHub's REST description answers this")]
    subject = f"{operation.method} {operation.template} ({operation.operation_id}) {exchange.status}"
    headers = _lower(exchange.headers)
    findings = [
        Finding(subject, f"header {name}", "present", "GitHub sends it on every response")
        for name in EVERY_RESPONSE
        if name.lower() not in headers
    ]
    responses: dict[str, Any] = operation.spec.get("responses", {})
    declared = responses.get(str(exchange.status)) or responses.get("default")
    if declared is None and exchange.status == 304 and exchange.method == "GET":
        declared = {"description": "Not modified"}
    if declared is None:
        if exchange.status < 400:
            listed = ", ".join(sorted(responses))
            return [*findings, Finding(subject, "", "status", f"not among the operation's responses ({listed})")]
        declared = {"content": BASIC_ERROR}
    declared = descriptions.response(declared)
    if exchange.status >= 400 and not declared.get("content"):
        declared = {**declared, "content": BASIC_ERROR}
    for name in declared.get("headers") or {}:
        if name.lower() == "location" and "location" not in headers:
            findings.append(Finding(subject, "header Location", "present", "the response declares it"))
    return findings + _body(descriptions, subject, operation, declared, exchange.body)


def _body(descriptions: Descriptions, subject: str, operation: Operation, declared: Any, body: bytes) -> list[Finding]:
    content: dict[str, Any] = declared.get("content") or {}
    if not content:
        if body.strip():
            return [Finding(subject, "", "content", "the response declares no body, but one was sent")]
        return []
    media = next((content[m] for m in content if "json" in m), None)
    if media is None or "schema" not in media:
        return []
    instance, findings = _json(subject, body)
    if findings:
        return findings
    validator = descriptions.rest.evolve(schema=media["schema"])
    return _schema_findings(subject, validator.iter_errors(instance))


def check_delivery(descriptions: Descriptions, exchange: Exchange) -> list[Finding]:
    headers = _lower(exchange.headers)
    event = headers.get("x-github-event", "")
    payload, findings = _json(f"webhook {event or '?'}", exchange.body)
    if findings:
        return findings
    action = payload.get("action") if isinstance(payload, dict) else None
    hook = descriptions.webhook(event, action if isinstance(action, str) else None)
    if hook is None:
        subject = f"webhook {event or '(no X-GitHub-Event)'} action {action}"
        return [Finding(subject, "", "webhook", "no webhook of GitHub's description has this event and action")]
    subject = f"webhook {hook.operation_id}"
    for name, required in hook.headers:
        value = headers.get(name.lower())
        if value is None and required and name.lower() != "x-hub-signature-256":
            findings.append(Finding(subject, f"header {name}", "required", "the webhook description requires it"))
    signature = headers.get("x-hub-signature-256")
    if signature is not None and not SIGNATURE.fullmatch(signature):
        findings.append(Finding(subject, "header X-Hub-Signature-256", "format", f"{signature!r} is not sha256=<hex>"))
    validator = descriptions.hooks.evolve(schema=hook.schema)
    return findings + _schema_findings(subject, validator.iter_errors(payload))


def check(descriptions: Descriptions, exchange: Exchange) -> list[Finding]:
    if exchange.kind == "delivery":
        return check_delivery(descriptions, exchange)
    return check_response(descriptions, exchange)
