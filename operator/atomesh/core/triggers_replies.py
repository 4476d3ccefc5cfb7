"""Replies on the issue or pull request that started a run: one when it starts, one when its pod's work
ends (its pull request, or why it failed), and the replies to deliveries that start nothing.

Invariants:
- A run replies only when it carries `atomesh.io/reply-to` (owner/name#number); which replies were
  posted is kept in its `atomesh.io/replied` annotation, so each is posted once across restarts (at
  most one repeat, when the operator stops between the comment and the annotation).
- The texts name the run, never its input or anything read from a Secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from atomesh.api import constants as k
from atomesh.core.triggers_github import Thread

STARTED = "started"
FINISHED = "finished"
FINISHED_PHASES = frozenset({"AwaitingReview", "Succeeded", "Rejected", "Failed", "Cancelled"})
_THREAD = re.compile(r"^(?P<repo>[^/#\s]+/[^/#\s]+)#(?P<number>[1-9][0-9]*)$")


@dataclass(frozen=True)
class Reply:
    """A comment to post on `thread`, and the mark that records it on the run."""

    thread: Thread
    mark: str
    body: str


def parse_thread(text: str) -> Thread | None:
    found = _THREAD.match(text.strip())
    return Thread(found["repo"], int(found["number"])) if found else None


def replied(annotations: Mapping[str, str]) -> set[str]:
    return {mark for mark in annotations.get(k.ANNOTATION_REPLIED, "").split(",") if mark}


def marks_value(marks: set[str]) -> str:
    return ",".join(sorted(marks))


def due_replies(run: Mapping[str, Any]) -> list[Reply]:
    """The replies a run still owes (a raw AgentRun: metadata, spec, status)."""
    metadata = run.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    thread = parse_thread(str(annotations.get(k.ANNOTATION_REPLY_TO, "")))
    if thread is None or metadata.get("deletionTimestamp"):
        return []
    done = replied(annotations)
    name = f"{metadata.get('namespace') or 'default'}/{metadata.get('name')}"
    agent = ((run.get("spec") or {}).get("agentRef") or {}).get("name", "")
    status = run.get("status") or {}
    phase = str(status.get("phase") or "")
    replies: list[Reply] = []
    if STARTED not in done:
        replies.append(Reply(thread, STARTED, f"atomesh: started `{agent}` as AgentRun `{name}`."))
    if phase in FINISHED_PHASES and FINISHED not in done:
        pushed_to = (run.get("spec") or {}).get("pullRequest") or {}
        replies.append(Reply(thread, FINISHED, _finished(agent, name, phase, status, pushed_to)))
    return replies


def _finished(agent: str, name: str, phase: str, status: Mapping[str, Any], pushed_to: Mapping[str, Any]) -> str:
    review = status.get("review") or {}
    commit = str((status.get("artifact") or {}).get("commit") or "")
    if pushed_to and commit:
        return (
            f"atomesh: `{agent}` (AgentRun `{name}`) pushed {commit[:12]} to `{pushed_to.get('headBranch')}` "
            "for review."
        )
    if review.get("url"):
        return f"atomesh: `{agent}` (AgentRun `{name}`) opened {review['url']} for review."
    reason = status.get("reason") or phase
    message = str(status.get("message") or "").strip()
    detail = f": {message}" if message else ""
    return f"atomesh: `{agent}` (AgentRun `{name}`) ended {phase} ({reason}){detail[:500]}"


def invalid_input_reply(thread: Thread, agent: str, trigger: str, error: str) -> Reply:
    body = f"atomesh: `{agent}` did not start (trigger `{trigger}`): {error[:800]}"
    return Reply(thread, "", body)


def refusal_reply(thread: Thread, agent: str, message: str) -> Reply:
    return Reply(thread, "", f"atomesh: `{agent}` did not start: {message}.")
