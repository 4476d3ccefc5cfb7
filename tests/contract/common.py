"""What the GitHub and Anthropic contract plugins do alike: collect the traffic of emulators that a
test starts in another process (`atomesh dev`), and fail a test with its findings."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest


def log_subprocess_traffic(config: pytest.Config, variable: str, prefix: str) -> Path:
    """A fresh log file that subprocesses find in `variable` (they inherit it) and append their traffic
    to; the variable is restored and the file removed when the session ends."""
    log = Path(tempfile.mkdtemp(prefix=prefix)) / "traffic.jsonl"
    previous = os.environ.get(variable)
    os.environ[variable] = str(log)

    def restore() -> None:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
        shutil.rmtree(log.parent, ignore_errors=True)

    config.add_cleanup(restore)
    return log


def fail_with(findings: Sequence[object], what: str, limit: int) -> None:
    """Fail the test: `what` (e.g. "the GitHub emulator sent N thing(s) ...") and the first `limit` findings."""
    shown = "\n".join(f"  {finding}" for finding in findings[:limit])
    more = f"\n  ... and {len(findings) - limit} more" if len(findings) > limit else ""
    pytest.fail(f"{what}:\n{shown}{more}", pytrace=False)
