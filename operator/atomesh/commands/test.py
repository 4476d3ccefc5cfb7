"""`atomesh test [PATH...]`: run agent test cases offline; exit 0 when all pass, 1 when one fails, 2 on bad usage.

Each case (`<agents>/<agent>/tests/<case>/case.yaml`) runs through the runner's real steps and the
real harness against the Anthropic emulator playing its cassette and a GitHub emulator holding its
starting repository. `--record` runs against a real model instead (ANTHROPIC_BASE_URL and
ANTHROPIC_API_KEY) and writes each case's cassette.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from atomesh.agenttest.case import HARNESS_KINDS, CaseError
from atomesh.agenttest.execution import Settings, Upstream
from atomesh.agenttest.report import junit_xml, write_report
from atomesh.agenttest.session import plan, run_session

DEFAULT_PATH = Path("agents")
DEFAULT_OUTPUT = Path("atomesh-test-results")
DEFAULT_UPSTREAM = "https://api.anthropic.com"
ENV_BASE_URL = "ANTHROPIC_BASE_URL"
ENV_API_KEY = "ANTHROPIC_API_KEY"
TOOLS_FOLDER = Path("node_modules") / ".bin"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="case files or folders searched for tests/*/case.yaml (default: agents/)",
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="cases run at once (default 1)")
    parser.add_argument("--harness", choices=HARNESS_KINDS, help="run every case with this harness instead of its own")
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT, metavar="DIR",
        help=f"where each case's pull request, check run and logs are saved (default {DEFAULT_OUTPUT}/)",
    )  # fmt: skip
    parser.add_argument("--junit-xml", type=Path, metavar="PATH", help="also write the results as JUnit XML")
    parser.add_argument(
        "--record", action="store_true",
        help=f"run against a real model ({ENV_BASE_URL}, default {DEFAULT_UPSTREAM}; key in {ENV_API_KEY}) "
        "and write each case's cassette",
    )  # fmt: skip


def tool_paths(start: Path) -> tuple[str, ...]:
    """node_modules/.bin of the working folder or the nearest parent (where `make harnesses` puts the CLIs)."""
    for folder in (start, *start.parents):
        candidate = folder / TOOLS_FOLDER
        if candidate.is_dir():
            return (str(candidate),)
    return ()


def _upstream() -> Upstream | str:
    key = os.environ.get(ENV_API_KEY, "")
    if not key:
        return f"--record needs the model's key in {ENV_API_KEY} (and its base URL in {ENV_BASE_URL} for a gateway)"
    return Upstream(os.environ.get(ENV_BASE_URL) or DEFAULT_UPSTREAM, key)


def run(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        print("atomesh test: --jobs must be at least 1", file=sys.stderr)
        return 2
    record = None
    if args.record:
        upstream = _upstream()
        if isinstance(upstream, str):
            print(f"atomesh test: {upstream}", file=sys.stderr)
            return 2
        record = upstream
    settings = Settings(
        output_dir=args.output_dir.resolve(), harness=args.harness, tool_paths=tool_paths(Path.cwd()), record=record
    )
    try:
        planned = plan(args.paths or [DEFAULT_PATH], settings)
    except CaseError as error:
        print(f"atomesh test: {error}", file=sys.stderr)
        return 2
    if not planned:
        where = ", ".join(str(p) for p in args.paths or [DEFAULT_PATH])
        print(f"atomesh test: no test cases under {where} (looked for */tests/*/case.yaml)", file=sys.stderr)
        return 2
    mode = "recording from " + record.base_url if record else "replaying cassettes"
    print(f"atomesh test: {len(planned)} case run(s), {args.jobs} at a time, {mode}", flush=True)
    lock = threading.Lock()

    def announce(line: str) -> None:
        with lock:
            print(line, flush=True)

    results, seconds = run_session(planned, settings, args.jobs, announce)
    write_report(results, seconds, sys.stdout)
    if args.junit_xml is not None:
        args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        args.junit_xml.write_text(junit_xml(results, seconds), encoding="utf-8")
    return 0 if all(result.passed for result in results) else 1
