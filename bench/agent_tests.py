"""Agent test cases per minute: `atomesh test agents/` with each harness, at one and at two cases at a
time. Run by hand from the repository root, after `make install harnesses`:

python -m bench.agent_tests [--harness litellm --harness claude-code] [--jobs 1 --jobs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from atomesh.agenttest.execution import Settings
from atomesh.agenttest.session import plan, run_session
from atomesh.commands.test import tool_paths

AGENTS = Path(__file__).resolve().parents[1] / "agents"


def measure(harness: str, jobs: int) -> str:
    with tempfile.TemporaryDirectory(prefix="atomesh-bench-") as out:
        settings = Settings(output_dir=Path(out), harness=harness, tool_paths=tool_paths(Path.cwd()))
        planned = plan([AGENTS], settings)
        results, seconds = run_session(planned, settings, jobs, lambda line: None)
    passed = sum(1 for result in results if result.passed)
    per_minute = len(results) / seconds * 60
    counts = f"{len(results)} cases ({passed} passed) in {seconds:6.1f}s"
    return f"{harness:<12} -j {jobs}: {counts} = {per_minute:5.1f} cases/min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--harness", action="append", choices=("litellm", "claude-code", "opencode"))
    parser.add_argument("--jobs", action="append", type=int)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; cases under {AGENTS}")
    for harness in args.harness or ["litellm", "claude-code"]:
        for jobs in args.jobs or [1, 2]:
            print(measure(harness, jobs), flush=True)


if __name__ == "__main__":
    main()
