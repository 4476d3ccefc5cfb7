"""Reading and comparing spreadsheet workbooks (.xlsx, .xlsm; .ods through review.opendocument) cell by cell.

openpyxl reads the bytes in memory twice: once for what each cell holds (a value or a formula)
and once with `data_only` for the value Excel last computed (cached in the file; a workbook saved
by a library that does not compute formulas has none, shown as "not computed"). Invariants:
cells are compared by position (a row inserted in the middle shows as changed cells below it,
which is what a reviewer sees in the sheet too); a row or column is "added" when it holds
values after and none before, "removed" the other way round; the comparison is bounded in
cells so a huge workbook cannot exhaust memory or time.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import PurePosixPath

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.utils.exceptions import InvalidFileException

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".ods"})
UNREADABLE_SUFFIXES = {
    ".xls": "legacy Excel files (.xls) are not compared: save the workbook as .xlsx or .ods",
}
MAX_CELLS = 200_000  # per side: beyond it the comparison is refused with a note

Coordinate = tuple[int, int]  # (row, column), 1-based


def is_workbook(path: str) -> bool:
    suffix = PurePosixPath(path).suffix.lower()
    return suffix in WORKBOOK_SUFFIXES or suffix in UNREADABLE_SUFFIXES


class WorkbookReadError(ValueError):
    """The bytes are not a workbook that can be read, or it is too large to compare."""


@dataclass(frozen=True)
class CellContent:
    """What a cell holds (`value`, the formula text for a formula) and its cached computed value."""

    value: object
    computed: object = None

    @property
    def is_formula(self) -> bool:
        return isinstance(self.value, str) and self.value.startswith("=")


@dataclass(frozen=True)
class Sheet:
    name: str
    cells: dict[Coordinate, CellContent]


@dataclass(frozen=True)
class CellChange:
    row: int
    column: int
    before: CellContent | None
    after: CellContent | None

    @property
    def coordinate(self) -> str:
        return f"{get_column_letter(self.column)}{self.row}"


@dataclass(frozen=True)
class SheetDiff:
    """Differences of one sheet; `status` is added, removed, modified or unchanged."""

    name: str
    status: str
    changes: tuple[CellChange, ...] = ()
    rows_added: tuple[int, ...] = ()
    rows_removed: tuple[int, ...] = ()
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    after: Sheet | None = field(default=None, compare=False)
    before: Sheet | None = field(default=None, compare=False)


def plain(value: object) -> object:
    """A cell value as something printable and comparable (dates as ISO text)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def read_workbook(data: bytes) -> dict[str, Sheet]:
    """Sheets of an .xlsx workbook by name, in workbook order, with each non-empty cell's content and cached value."""
    try:
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise WorkbookReadError(str(error) or type(error).__name__) from error
    sheets: dict[str, Sheet] = {}
    total = 0
    try:
        for name in formulas.sheetnames:
            cells: dict[Coordinate, CellContent] = {}
            computed: dict[Coordinate, object] = {}
            for row in values[name].iter_rows():
                for item in row:
                    if item.value is not None and hasattr(item, "column"):
                        computed[(item.row, item.column)] = plain(item.value)
            for row in formulas[name].iter_rows():
                for item in row:
                    if item.value is None or not hasattr(item, "column"):
                        continue
                    total += 1
                    if total > MAX_CELLS:
                        raise WorkbookReadError(f"more than {MAX_CELLS:,} non-empty cells")
                    key = (item.row, item.column)
                    value = plain(item.value)
                    formula = isinstance(value, str) and value.startswith("=")
                    cells[key] = CellContent(value=value, computed=computed.get(key) if formula else None)
            sheets[name] = Sheet(name=name, cells=cells)
    finally:
        formulas.close()
        values.close()
    return sheets


def _lines(cells: dict[Coordinate, CellContent], axis: int) -> set[int]:
    return {coordinate[axis] for coordinate in cells}


def diff_sheet(name: str, before: Sheet | None, after: Sheet | None) -> SheetDiff:
    old = before.cells if before else {}
    new = after.cells if after else {}
    changes = tuple(
        CellChange(row, column, old.get((row, column)), new.get((row, column)))
        for row, column in sorted(set(old) | set(new))
        if old.get((row, column)) != new.get((row, column))
    )
    if before is None or after is None:
        status = "added" if before is None else "removed"
    else:
        status = "modified" if changes else "unchanged"
    rows_old, rows_new = _lines(old, 0), _lines(new, 0)
    cols_old, cols_new = _lines(old, 1), _lines(new, 1)
    both = before is not None and after is not None
    return SheetDiff(
        name=name,
        status=status,
        changes=changes,
        rows_added=tuple(sorted(rows_new - rows_old)) if both else (),
        rows_removed=tuple(sorted(rows_old - rows_new)) if both else (),
        columns_added=tuple(get_column_letter(c) for c in sorted(cols_new - cols_old)) if both else (),
        columns_removed=tuple(get_column_letter(c) for c in sorted(cols_old - cols_new)) if both else (),
        after=after,
        before=before,
    )


def diff_workbooks(before: dict[str, Sheet], after: dict[str, Sheet]) -> tuple[SheetDiff, ...]:
    """One diff per sheet: the after workbook's order first, then sheets that were removed."""
    names = [*after, *(name for name in before if name not in after)]
    return tuple(diff_sheet(name, before.get(name), after.get(name)) for name in names)


@dataclass(frozen=True)
class SumCheckResult:
    ok: bool
    message: str


def _number(content: CellContent | None) -> float | None:
    if content is None:
        return None
    value = content.computed if content.is_formula else content.value
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def check_sum(sheets: dict[str, Sheet], sheet: str, cell: str, sum_of: str, tolerance: float) -> SumCheckResult:
    """Whether `cell` equals the sum of the numbers in `sum_of` on `sheet` (formulas by their cached value)."""
    found = sheets.get(sheet)
    if found is None:
        return SumCheckResult(False, f"no sheet named {sheet!r}")
    try:
        min_col, min_row, max_col, max_row = range_boundaries(sum_of)
        target_col, target_row, _, _ = range_boundaries(cell)
    except (ValueError, TypeError):
        return SumCheckResult(False, f"{cell!r} or {sum_of!r} is not a cell reference (write B12 and B2:B11)")
    if min_col is None or min_row is None or max_col is None or max_row is None:
        return SumCheckResult(False, f"{sum_of!r} must be a bounded range like B2:B11")
    if target_col is None or target_row is None:
        return SumCheckResult(False, f"{cell!r} must be one cell like B12")
    total = 0.0
    for row in range(min_row, max_row + 1):
        for column in range(min_col, max_col + 1):
            total += _number(found.cells.get((row, column))) or 0.0
    target = found.cells.get((target_row, target_col))
    actual = _number(target)
    if actual is None:
        shown = "not computed" if target is not None and target.is_formula else "not a number"
        return SumCheckResult(False, f"{sheet}!{cell} is {shown}; the sum of {sum_of} is {total:g}")
    ok = abs(actual - total) <= tolerance
    verb = "equals" if ok else "does not equal"
    return SumCheckResult(ok, f"{sheet}!{cell} = {actual:g} {verb} the sum of {sum_of} = {total:g}")
