"""A test session: every case found under the paths, once per harness, `jobs` at a time.

Results come back in the order of the cases, whatever order they finish in; each finished case
is announced as it ends. When recording, each case's cassette is written (secrets scrubbed) and
the change from the cassette it replaces is announced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from atomesh.agenttest.case import TestCase, case_files, load_case, model_file_stem
from atomesh.agenttest.cassette_file import cassette_diff, dump_cassette
from atomesh.agenttest.execution import CaseResult, Settings, run_case
from atomesh.agenttest.report import progress_line

Announce = Callable[[str], None]


@dataclass(frozen=True)
class Planned:
    case: TestCase
    harness: str
    output: Path
    model: str | None = None  # in place of the agent's own


def plan(paths: Sequence[Path], settings: Settings) -> list[Planned]:
    """Every (case, harness) to run, with `settings.model` if given; CaseError names the first case file
    that cannot be loaded."""
    planned: list[Planned] = []
    model = settings.model
    for file in case_files(list(paths)):
        case = load_case(file)
        for harness in case.harnesses(settings.harness):
            output = settings.output_dir / case.agent / case.name / harness
            if model is not None:
                output = output / f"model-{model_file_stem(model)}"
            planned.append(Planned(case, harness, output, model))
    return planned


def _save_recording(result: CaseResult, settings: Settings, announce: Announce) -> None:
    if result.recorded is None or settings.record is None:
        return
    path = result.case.cassette_for(result.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = f" and the model {result.model}" if result.model else ""
    header = (
        f"The model's turns for the test case {result.case.agent}/{result.case.name}, recorded by\n"
        f"`atomesh test --record` with {result.harness}{model} ({len(result.recorded.turns)} turns)."
    )
    text = dump_cassette(result.recorded, header, [settings.record.api_key])
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(text, encoding="utf-8")
    diff = cassette_diff(old, text, str(path))
    if not old:
        announce(f"recorded {path} ({len(result.recorded.turns)} turns)")
    elif diff:
        announce(f"re-recorded {path}; what changed:\n{diff}")
    else:
        announce(f"re-recorded {path}: unchanged")


def run_session(
    planned: Sequence[Planned], settings: Settings, jobs: int, announce: Announce
) -> tuple[list[CaseResult], float]:
    started = time.monotonic()
    root = Path.cwd()

    def one(item: Planned) -> CaseResult:
        result = run_case(item.case, item.harness, settings, item.output, item.model)
        _save_recording(result, settings, announce)
        announce(progress_line(result, root))
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="atomesh-test") as pool:
        results = list(pool.map(one, planned))
    return results, time.monotonic() - started
