"""The report of a test session: one line per case as it ends, then each failure in full and a
closing count (the shape pytest users read at a glance), and the same as JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from atomesh.agenttest.execution import CaseResult, case_label

WIDTH = 78


def _rule(title: str, char: str = "=") -> str:
    text = f" {title} "
    side = max(3, (WIDTH - len(text)) // 2)
    return f"{char * side}{text}{char * side}"


def status_word(result: CaseResult) -> str:
    if result.error is not None:
        return "ERROR"
    return "PASSED" if result.passed else "FAILED"


def progress_line(result: CaseResult, root: Path) -> str:
    return f"{_relative(result.case.folder, root)} [{result.variant}] {status_word(result)} ({result.seconds:.1f}s)"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def failure_text(result: CaseResult) -> str:
    lines: list[str] = []
    if result.error is not None:
        lines.append(result.error)
    lines += [str(miss) for miss in result.misses]
    observed = result.observed
    if observed is not None and observed.outcome == "failed" and result.misses:
        lines.append(f"(the run failed: {observed.reason}: {observed.message})")
    lines.append(f"output: {result.output} (runner.log, model-requests.txt, pull-request.md, check-run.md)")
    return "\n".join(lines)


def summary_line(results: Sequence[CaseResult], seconds: float) -> str:
    passed = sum(1 for r in results if r.passed)
    failed = sum(1 for r in results if not r.passed and r.error is None)
    errors = sum(1 for r in results if r.error is not None)
    parts = [f"{passed} passed", f"{failed} failed"]
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    return f"{', '.join(parts)} in {seconds:.1f}s"


def write_report(results: Sequence[CaseResult], seconds: float, out: TextIO) -> None:
    """Failures in full, then the closing count (the per-case lines are printed as cases end)."""
    failing = [r for r in results if not r.passed]
    if failing:
        print(_rule("FAILURES"), file=out)
        for result in failing:
            print(_rule(case_label(result.case, result.harness, result.model), "_"), file=out)
            print(failure_text(result), file=out)
            print(file=out)
    print(_rule(summary_line(results, seconds)), file=out)


PropertiesByRun = Mapping[tuple[Path, str], Mapping[str, str]]  # (case file, variant) -> name -> value


def junit_xml(results: Sequence[CaseResult], seconds: float, properties: PropertiesByRun | None = None) -> str:
    """JUnit XML as CI systems read it: one testsuite, a testcase per case and harness; `properties`
    (e.g. `--compare`'s side-by-side figures) become each testcase's <properties>."""
    suite = ET.Element(
        "testsuite",
        name="atomesh test",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if not r.passed and r.error is None)),
        errors=str(sum(1 for r in results if r.error is not None)),
        skipped="0",
        time=f"{seconds:.3f}",
    )
    for result in results:
        testcase = ET.SubElement(
            suite,
            "testcase",
            classname=result.case.agent,
            name=f"{result.case.name}[{result.variant}]",
            file=str(result.case.file),
            time=f"{result.seconds:.3f}",
        )
        extra = (properties or {}).get((result.case.file, result.variant))
        if extra:
            holder = ET.SubElement(testcase, "properties")
            for name, value in extra.items():
                ET.SubElement(holder, "property", name=name, value=value)
        if not result.passed:
            kind = "error" if result.error is not None else "failure"
            first = (result.error or str(result.misses[0])).splitlines()[0]
            element = ET.SubElement(testcase, kind, message=first)
            element.text = failure_text(result)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
