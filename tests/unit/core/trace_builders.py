"""A finished run as its status reports it, for the run trace's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atomesh.api.agentrun import AgentRun

UID = "4f1c7e2a-9b3d-4c55-8e61-0a2b3c4d5e6f"
AGENT_SPEC = {
    "purpose": "fix bugs",
    "instructions": "SECRET-LOOKING instructions stay out of spans",
    "output": {"artifact": "code"},
    "workspace": {"repo": "demo/sample-app"},
    "harness": {"kind": "litellm", "model": "claude-sonnet-4-5"},
}


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-24T10:{minute:02d}:{second:02d}Z"


def moment(minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 24, 10, minute, second, tzinfo=UTC)


def merged_run(**status: Any) -> AgentRun:
    return AgentRun.model_validate(
        {
            "metadata": {"name": "fix-1", "namespace": "team-a", "uid": UID, "creationTimestamp": at(0)},
            "spec": {"agentRef": {"name": "fixer"}, "input": {"issue": "input stays out of spans"}},
            "status": {
                "phase": "Succeeded",
                "reason": "Merged",
                "agent": {"name": "fixer", "revision": "inline@sha256:abc", "spec": AGENT_SPEC},
                "startTime": at(0, 5),
                "completionTime": at(40, 1),
                "steps": [
                    {"name": "checkout", "startedAt": at(0, 10), "finishedAt": at(0, 20), "exitCode": 0},
                    {"name": "agent", "startedAt": at(0, 20), "finishedAt": at(2, 40), "exitCode": 0},
                    {"name": "publish", "startedAt": at(2, 40), "finishedAt": at(2, 59), "exitCode": 0},
                ],
                "usage": {"inputTokens": 1200, "outputTokens": 340, "costUSD": 0.0123, "turns": 3},
                "review": {
                    "url": "https://github.com/demo/sample-app/pull/7",
                    "number": 7,
                    "state": "merged",
                    "publishedAt": at(3),
                    "decidedAt": at(40),
                    "revision": 1,
                },
                **status,
            },
        }
    )
