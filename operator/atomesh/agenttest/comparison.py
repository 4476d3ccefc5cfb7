"""`atomesh test --compare`: each case's baseline run beside its run with another harness, or with
another model on the same harness (`model=NAME`, replaying what was recorded with that model).

Invariants: one row per baseline result, in the baseline's order; a row whose compared run is
missing is a regression (nothing passed where the baseline did); a regression is exactly a row
whose baseline passed and whose compared run did not. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from atomesh.agenttest.execution import CaseResult

MISSING = "-"
MODEL_PREFIX = "model="


@dataclass(frozen=True)
class Alternative:
    """What the baseline is compared with: `claude-code` (a harness) or `model=claude-haiku-4-5`."""

    harness: str | None = None
    model: str | None = None

    @classmethod
    def parse(cls, value: str) -> Alternative:
        if value.startswith(MODEL_PREFIX):
            return cls(model=value.removeprefix(MODEL_PREFIX))
        return cls(harness=value)

    @property
    def label(self) -> str:
        return f"{MODEL_PREFIX}{self.model}" if self.model is not None else str(self.harness)

    def pairs(self, baseline: CaseResult, other: CaseResult) -> bool:
        """Whether `other` is the baseline's case run the way this alternative runs it."""
        if other.case.file != baseline.case.file:
            return False
        if self.model is not None:  # another model: on the same harness as the baseline
            return other.model == self.model and other.harness == baseline.harness
        return other.harness == self.harness and other.model is None


@dataclass(frozen=True)
class ComparedCase:
    baseline: CaseResult
    compared: CaseResult | None

    @property
    def regression(self) -> bool:
        return self.baseline.passed and not (self.compared is not None and self.compared.passed)


def pair_results(
    baseline: Sequence[CaseResult], compared: Sequence[CaseResult], alternative: str
) -> list[ComparedCase]:
    """Each baseline result with the run of the same case under `alternative` (None when absent)."""
    wanted = Alternative.parse(alternative)
    return [
        ComparedCase(result, next((other for other in compared if wanted.pairs(result, other)), None))
        for result in baseline
    ]


def _verdict(result: CaseResult | None) -> str:
    """status / outcome / the check run's verdict, e.g. `PASSED published success`."""
    if result is None:
        return MISSING
    status = "ERROR" if result.error is not None else ("PASSED" if result.passed else "FAILED")
    observed = result.observed
    if observed is None:
        return status
    return " ".join(part for part in (status, observed.outcome, observed.verdict) if part)


def _cost(result: CaseResult | None) -> str:
    if result is None or result.observed is None or result.observed.cost_usd is None:
        return MISSING
    return f"${result.observed.cost_usd:.4f}"


def _turns(result: CaseResult | None) -> str:
    if result is None or result.observed is None or result.observed.turns is None:
        return MISSING
    return str(result.observed.turns)


def row_cells(row: ComparedCase) -> list[str]:
    base, other = row.baseline, row.compared
    return [
        f"{base.case.agent}/{base.case.name}",
        base.variant,
        _verdict(base),
        _verdict(other),
        _cost(base),
        _cost(other),
        _turns(base),
        _turns(other),
        "REGRESSION" if row.regression else "",
    ]


def comparison_table(rows: Sequence[ComparedCase], alternative: str) -> str:
    """A fixed-width table: case, baseline harness, then verdict, cost and turns of each side."""
    header = ["case", "baseline", "verdict", f"verdict ({alternative})", "cost", f"cost ({alternative})", "turns",
              f"turns ({alternative})", ""]  # fmt: skip
    body = [row_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
             for line in [header, *body]]  # fmt: skip
    regressions = sum(1 for row in rows if row.regression)
    lines.append(f"{regressions} regression(s) with {alternative} in {len(rows)} case run(s)")
    return "\n".join(lines)


def comparison_properties(row: ComparedCase, alternative: str) -> dict[str, str]:
    """The row as JUnit <property> pairs, attached to the baseline run's testcase (one per row)."""
    base, wanted = row.baseline, Alternative.parse(alternative)
    return {
        "atomesh.compare.baseline": base.variant,
        "atomesh.compare.harness": wanted.harness or base.harness,
        **({"atomesh.compare.model": wanted.model} if wanted.model is not None else {}),
        "atomesh.compare.baseline.verdict": _verdict(base),
        "atomesh.compare.verdict": _verdict(row.compared),
        "atomesh.compare.baseline.costUSD": _cost(base),
        "atomesh.compare.costUSD": _cost(row.compared),
        "atomesh.compare.baseline.turns": _turns(base),
        "atomesh.compare.turns": _turns(row.compared),
        "atomesh.compare.regression": str(row.regression).lower(),
    }
