"""The termination message: at most 4 KiB (Kubernetes truncates longer ones mid-JSON).

`fit_summary` trims the parts that can grow — check output, the file list, the message —
until the JSON fits, so the operator always gets a complete, parseable PublishSummary.
"""

from __future__ import annotations

import json

from atomesh.api import constants as k
from atomesh.api.common import dump
from atomesh.api.runfile import PublishSummary


def _encode(summary: PublishSummary) -> str:
    return json.dumps(dump(summary), separators=(",", ":"), ensure_ascii=True)  # ASCII: bytes == characters


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def fit_summary(summary: PublishSummary, limit: int = k.TERMINATION_MESSAGE_LIMIT) -> str:
    encoded = _encode(summary)
    if len(encoded) <= limit:
        return encoded
    for tail_limit in (500, 200, 0):
        checks = [c.model_copy(update={"output_tail": _shorten(c.output_tail, tail_limit)}) for c in summary.checks]
        summary = summary.model_copy(update={"checks": checks})
        encoded = _encode(summary)
        if len(encoded) <= limit:
            return encoded
    if summary.artifact is not None:
        files = summary.artifact.files
        keep = len(files)
        while keep > 0 and len(encoded) > limit:
            keep //= 2
            shown = [*files[:keep], f"… and {len(files) - keep} more"]
            summary = summary.model_copy(update={"artifact": summary.artifact.model_copy(update={"files": shown})})
            encoded = _encode(summary)
        if len(encoded) <= limit:
            return encoded
    summary = summary.model_copy(update={"message": _shorten(summary.message, 200), "checks": []})
    encoded = _encode(summary)
    if len(encoded) <= limit:
        return encoded
    # Last resort: what the operator needs to track the pull request.
    minimal = PublishSummary(outcome=summary.outcome, review=summary.review, usage=summary.usage, message="trimmed")
    return _encode(minimal)[:limit]


def fit_text(text: str, limit: int = k.TERMINATION_MESSAGE_LIMIT) -> str:
    """A failure message cut to `limit` bytes without splitting a UTF-8 character."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "..."
