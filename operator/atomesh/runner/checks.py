"""review.checks: shell commands run in the workspace after the harness; their results go on the PR.

A failing check does not fail the run — reviewers see it on the pull request. Output is kept as a
tail, credentials masked; each check is bounded by what is left of the run's timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

from atomesh.api.agent import Check
from atomesh.api.runfile import CheckResult
from atomesh.harness.process import run_shell

OUTPUT_TAIL = 2000


def tail(text: str, limit: int = OUTPUT_TAIL) -> str:
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


def run_check(
    check: Check, workspace: Path, env: Mapping[str, str], timeout: float, scrub: Callable[[str], str]
) -> CheckResult:
    code, output = run_shell(check.run, workspace, env, max(timeout, 1.0))
    if code is None:
        output += f"\n(check stopped: it ran past the run's timeout of {timeout:.0f}s)"
        code = -9
    return CheckResult(name=check.name, passed=code == 0, exit_code=code, output_tail=tail(scrub(output)))


def run_checks(
    checks: list[Check], workspace: Path, env: Mapping[str, str], deadline: float, scrub: Callable[[str], str]
) -> list[CheckResult]:
    return [run_check(check, workspace, env, deadline - time.monotonic(), scrub) for check in checks]
