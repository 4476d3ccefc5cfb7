"""API errors as Kubernetes `Status` objects: clients (kopf above all) ignore any other error body."""

from __future__ import annotations

from typing import Any

REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
}


class ApiError(Exception):
    """An error answered as a `Status` object with `code`, `reason` and optional `details`."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        *,
        name: str | None = None,
        group: str | None = None,
        kind: str | None = None,
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details: dict[str, Any] = {}
        if name is not None:
            self.details["name"] = name
        if group is not None:
            self.details["group"] = group
        if kind is not None:
            self.details["kind"] = kind
        if causes:
            self.details["causes"] = causes
        self.list_continue: str | None = None  # Status.metadata.continue (an expired paged LIST's way on)

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {"continue": self.list_continue} if self.list_continue else {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def resource_ref(group: str, plural: str) -> str:
    """`pods` or `agents.atomesh.io`, as the real API server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, f'{resource_ref(group, plural)} "{name}" not found', name=name, group=group, kind=plural)


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        f'{resource_ref(group, plural)} "{name}" already exists',
        "AlreadyExists",
        name=name,
        group=group,
        kind=plural,
    )


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {resource_ref(group, plural)} "{name}": {why}',
        "Conflict",
        name=name,
        group=group,
        kind=plural,
    )


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid; each cause names the field, as `{"field", "reason", "message"}`.

    The message aggregates the errors as apimachinery's `ErrorList.ToAggregate` does: duplicates
    dropped, several in brackets (`is invalid: [a, b]`), a single one bare."""
    unique = list(dict.fromkeys(f"{c['field']}: {c['message']}" for c in causes))
    summary = unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
    return ApiError(
        422,
        f'{kind}.{group} "{name}" is invalid: {summary}' if group else f'{kind} "{name}" is invalid: {summary}',
        "Invalid",
        name=name,
        group=group,
        kind=kind,
        causes=causes,
    )


def cause(field: str, message: str, reason: str = "FieldValueInvalid") -> dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)
