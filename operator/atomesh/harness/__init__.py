"""Harness adapters (Claude Code, OpenCode, a LiteLLM tool loop) behind one protocol."""

from atomesh.harness.protocol import (
    FailureReason,
    Harness,
    HarnessLimits,
    HarnessResult,
    HarnessUsage,
    ModelAccess,
    Task,
)
from atomesh.harness.registry import HARNESSES, build_harness

__all__ = [
    "HARNESSES",
    "FailureReason",
    "Harness",
    "HarnessLimits",
    "HarnessResult",
    "HarnessUsage",
    "ModelAccess",
    "Task",
    "build_harness",
]
