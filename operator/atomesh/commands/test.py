"""`atomesh test [PATH...]`: run agent test cases offline; exit 0 when all pass, 1 when one fails, 2 on bad usage.

Each case (`<agents>/<agent>/tests/<case>/case.yaml`) runs through the runner's real steps and the
real harness against the Anthropic emulator playing its cassette and a GitHub emulator holding its
starting repository. `--record` runs against a real model instead (ANTHROPIC_BASE_URL and
ANTHROPIC_API_KEY) and writes each case's cassette. `--model NAME` runs (or, with `--record`, records)
every case with that model in place of its agent's own; its turns live in the case's
`cassettes/<NAME>.yaml`, since a cassette fixes one model's answers. `--compare HARNESS` also runs
every case with HARNESS on the same cassette, and `--compare model=NAME` with the turns recorded
with NAME, and prints both side by side; exit 1 when the alternative fails a case the baseline
passes (or a baseline run fails).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from pathlib import Path

from atomesh.agenttest.case import HARNESS_KINDS, CaseError
from atomesh.agenttest.comparison import (
    MODEL_PREFIX,
    Alternative,
    comparison_properties,
    comparison_table,
    pair_results,
)
from atomesh.agenttest.execution import CaseResult, Settings, Upstream
from atomesh.agenttest.report import PropertiesByRun, junit_xml, write_report
from atomesh.agenttest.session import Planned, plan, run_session

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
    parser.add_argument(
        "--model", metavar="NAME",
        help="run every case with this model in place of its agent's own, replaying the case's cassettes/NAME.yaml "
        "(with --record: record that file)",
    )  # fmt: skip
    parser.add_argument(
        "--compare", metavar="HARNESS|model=NAME",
        help=f"also run every case with HARNESS ({', '.join(HARNESS_KINDS)}) on the same cassette, or with the model "
        "NAME on the turns recorded with it (--record --model NAME), and report verdict, cost and turns side by "
        "side; exit 1 when the alternative fails a case the baseline passes",
    )  # fmt: skip


def compare_problem(value: str, harness: str | None, record: bool, model: str | None = None) -> str | None:
    """Why `--compare value` cannot run, or None."""
    if harness is not None or record or model is not None:
        return "--compare runs the cases as written beside the alternative; drop --harness/--model/--record"
    if value.startswith(MODEL_PREFIX):
        if not value.removeprefix(MODEL_PREFIX).strip():
            return f"--compare {value}: name the model, e.g. --compare model=claude-haiku-4-5"
        return None
    if value not in HARNESS_KINDS:
        return f"--compare {value}: not a harness; use one of {', '.join(HARNESS_KINDS)} or model=NAME"
    return None


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
    if args.compare is not None:
        problem = compare_problem(args.compare, args.harness, args.record, args.model)
        if problem:
            print(f"atomesh test: {problem}", file=sys.stderr)
            return 2
    record = None
    if args.record:
        upstream = _upstream()
        if isinstance(upstream, str):
            print(f"atomesh test: {upstream}", file=sys.stderr)
            return 2
        record = upstream
    if args.model is not None and not args.model.strip():
        print("atomesh test: --model needs a model name, e.g. --model claude-haiku-4-5", file=sys.stderr)
        return 2
    settings = Settings(
        output_dir=args.output_dir.resolve(),
        harness=args.harness,
        tool_paths=tool_paths(Path.cwd()),
        record=record,
        model=args.model,
    )
    try:
        planned = plan(args.paths or [DEFAULT_PATH], settings)
        baseline_count = len(planned)
        if args.compare is not None:
            planned += _compared_runs(planned, args.paths or [DEFAULT_PATH], settings, args.compare)
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
    properties: PropertiesByRun = {}
    code = 0 if all(result.passed for result in results) else 1
    if args.compare is not None:
        code, properties = _report_comparison(results[:baseline_count], results, args.compare)
    if args.junit_xml is not None:
        args.junit_xml.parent.mkdir(parents=True, exist_ok=True)
        args.junit_xml.write_text(junit_xml(results, seconds, properties), encoding="utf-8")
    return code


def _compared_runs(baseline: list[Planned], paths: list[Path], settings: Settings, value: str) -> list[Planned]:
    """The runs of the alternative that the baseline does not already make (a case whose own harness it is)."""
    alternative = Alternative.parse(value)
    already = {(item.case.file, item.harness, item.model) for item in baseline}
    if alternative.model is not None:
        compared = plan(paths, dataclasses.replace(settings, model=alternative.model))
    else:
        compared = plan(paths, dataclasses.replace(settings, harness=alternative.harness))
    return [item for item in compared if (item.case.file, item.harness, item.model) not in already]


def _report_comparison(
    baseline: list[CaseResult], results: list[CaseResult], value: str
) -> tuple[int, PropertiesByRun]:
    rows = pair_results(baseline, results, value)
    played = "turns recorded with each model" if value.startswith(MODEL_PREFIX) else "same cassettes"
    print(f"comparison with {value} ({played}):")
    print(comparison_table(rows, value))
    properties = {(row.baseline.case.file, row.baseline.variant): comparison_properties(row, value) for row in rows}
    failed = any(row.regression or not row.baseline.passed for row in rows)
    return (1 if failed else 0), properties
