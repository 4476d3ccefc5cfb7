"""What the model was asked, as the case's report and output folder show it.

A request of the agent conversation (one that carries tools) that no cassette turn fits fails the
case loudly: the report shows the request, so the missing turn can be written (or recorded).
"""

from __future__ import annotations

from collections.abc import Sequence

from atomesh.devstack.anthropic.app import RecordedRequest

SHOWN_CHARS = 2000


def _tools(request: RecordedRequest) -> list[str]:
    return [str(tool.get("name")) for tool in request.body.get("tools") or [] if isinstance(tool, dict)]


def _shown(text: str, limit: int = SHOWN_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_request(number: int, request: RecordedRequest, limit: int = SHOWN_CHARS) -> str:
    messages = request.body.get("messages") or []
    answer = f"turn {request.turn}" if request.turn is not None else "no turn"
    tools = ", ".join(_tools(request)) or "none"
    head = (
        f"request {number}: {request.method} {request.path} (harness {request.harness}, {len(messages)} message(s), "
        f"tools: {tools}) -> {request.status}, {answer}"
    )
    body = "\n".join(f"    {line}" for line in _shown(request.last_user_text, limit).splitlines()) or "    (empty)"
    return f"{head}\n  last user message:\n{body}"


def describe_requests(requests: Sequence[RecordedRequest]) -> str:
    return "\n\n".join(describe_request(number, request) for number, request in enumerate(requests, 1)) + "\n"


def unmatched_requests(requests: Sequence[RecordedRequest]) -> str | None:
    """The loud failure for requests of the agent conversation that no cassette turn answered, else None."""
    missing = [
        (number, request)
        for number, request in enumerate(requests, 1)
        if request.turn is None and request.status == 400 and request.body.get("tools")
    ]
    if not missing:
        return None
    shown = "\n\n".join(describe_request(number, request) for number, request in missing)
    return (
        f"the cassette has no turn for {len(missing)} model request(s); add a turn for it "
        f"(or re-record with `atomesh test --record`):\n\n{shown}"
    )
