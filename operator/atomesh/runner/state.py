"""Files the agent step leaves in the state directory for publish: usage, check results, summary."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from atomesh.api.agentrun import Usage
from atomesh.api.common import dump
from atomesh.api.runfile import CheckResult
from atomesh.runner.context import CHECKS_FILE, SUMMARY_FILE, USAGE_FILE

_CHECKS = TypeAdapter(list[CheckResult])


def write_usage(state_dir: Path, usage: Usage) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / USAGE_FILE).write_text(json.dumps(dump(usage), indent=2), encoding="utf-8")


def read_usage(state_dir: Path) -> Usage | None:
    path = state_dir / USAGE_FILE
    return Usage.model_validate_json(path.read_text(encoding="utf-8")) if path.exists() else None


def write_checks(state_dir: Path, checks: list[CheckResult]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / CHECKS_FILE).write_text(json.dumps([dump(c) for c in checks], indent=2), encoding="utf-8")


def read_checks(state_dir: Path) -> list[CheckResult]:
    path = state_dir / CHECKS_FILE
    return _CHECKS.validate_json(path.read_text(encoding="utf-8")) if path.exists() else []


def write_summary(state_dir: Path, text: str) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / SUMMARY_FILE).write_text(text, encoding="utf-8")


def read_summary(state_dir: Path) -> str:
    path = state_dir / SUMMARY_FILE
    return path.read_text(encoding="utf-8") if path.exists() else ""
