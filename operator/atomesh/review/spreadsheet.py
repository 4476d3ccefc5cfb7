"""The spreadsheet surface: per workbook and sheet, the cells that changed, old → new, formulas
with their computed values, added and removed rows and columns, a table of the changed region, and
the checks the Agent declared (totals that must still balance) as part of the verdict.

Invariants: a workbook that cannot be read is a failure on the surface, never a crash; a format
that is not compared (.xls) is named with the reason; the changed-region table is bounded in
rows and columns and says so when cut.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from atomesh.review.markdown import cell, code_span, plural
from atomesh.review.opendocument import read_ods
from atomesh.review.rendering import Rendering
from atomesh.review.surface import ChangedFile, ReviewInput
from atomesh.review.truncation import Section
from atomesh.review.workbook import (
    UNREADABLE_SUFFIXES,
    CellContent,
    Sheet,
    SheetDiff,
    WorkbookReadError,
    check_sum,
    diff_workbooks,
    is_workbook,
    read_workbook,
)

CHANGES_SHOWN = 40  # changed cells listed per sheet
REGION_ROWS = 12
REGION_COLUMNS = 8
VALUE_LIMIT = 40


def show(content: CellContent | None) -> str:
    """A cell's content for a table: the value, or `=FORMULA` with its computed value."""
    if content is None:
        return "_empty_"
    if content.is_formula:
        computed = "not computed" if content.computed is None else repr_value(content.computed)
        return f"{code_span(str(content.value)[:VALUE_LIMIT])} → {computed}"
    return repr_value(content.value)


def repr_value(value: object) -> str:
    if isinstance(value, float):
        return cell(f"{value:g}", VALUE_LIMIT)
    return cell(str(value), VALUE_LIMIT)


def _region(diff: SheetDiff) -> str:
    """The bounding box of the changes as a table, changed cells as **old → new**."""
    if not diff.changes or diff.after is None:
        return ""
    rows = sorted({change.row for change in diff.changes})
    columns = sorted({change.column for change in diff.changes})
    top, left = rows[0], columns[0]
    bottom, right = min(rows[-1], top + REGION_ROWS - 1), min(columns[-1], left + REGION_COLUMNS - 1)
    changed = {(change.row, change.column): change for change in diff.changes}
    header = ["", *(get_column_letter(column) for column in range(left, right + 1))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    cells = diff.after.cells
    for row in range(top, bottom + 1):
        shown = []
        for column in range(left, right + 1):
            change = changed.get((row, column))
            if change is not None:
                shown.append(f"**{_short(change.before)} → {_short(change.after)}**")
            else:
                shown.append(_short(cells.get((row, column)), empty=""))
        lines.append(f"| {row} | " + " | ".join(shown) + " |")
    cut = (rows[-1] > bottom) or (columns[-1] > right)
    note = f"\n\n_Region cut to {REGION_ROWS} rows x {REGION_COLUMNS} columns._" if cut else ""
    return "\n".join(lines) + note


def _short(content: CellContent | None, empty: str = "∅") -> str:
    if content is None:
        return empty
    value = content.computed if content.is_formula and content.computed is not None else content.value
    return cell(str(value), 24)


def _sheet_block(path: str, diff: SheetDiff) -> str:
    title = f"#### {code_span(path)} / {cell(diff.name, 60)} ({diff.status})"
    lines = [title, ""]
    facts = []
    if diff.rows_added:
        facts.append(f"rows added: {_numbers(diff.rows_added)}")
    if diff.rows_removed:
        facts.append(f"rows removed: {_numbers(diff.rows_removed)}")
    if diff.columns_added:
        facts.append(f"columns added: {', '.join(diff.columns_added)}")
    if diff.columns_removed:
        facts.append(f"columns removed: {', '.join(diff.columns_removed)}")
    lines.append(f"{plural(len(diff.changes), 'cell')} changed" + ("; " + "; ".join(facts) if facts else "") + ".")
    if diff.status in ("added", "removed"):
        return "\n".join(lines)
    lines += ["", "| Cell | Before | After |", "|---|---|---|"]
    for change in diff.changes[:CHANGES_SHOWN]:
        lines.append(f"| {change.coordinate} | {show(change.before)} | {show(change.after)} |")
    hidden = len(diff.changes) - CHANGES_SHOWN
    if hidden > 0:
        lines += ["", f"_… {plural(hidden, 'more changed cell')} not listed._"]
    region = _region(diff)
    if region:
        lines += ["", "<details><summary>Changed region</summary>", "", region, "", "</details>"]
    return "\n".join(lines)


def _numbers(values: tuple[int, ...], limit: int = 12) -> str:
    shown = ", ".join(str(value) for value in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def spreadsheet_sections(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """One block per changed sheet of every workbook, then the declared workbook checks."""
    rendering = Rendering()
    blocks: list[str] = []
    read_after: dict[str, dict[str, Sheet]] = {}
    workbooks = [changed for changed in files if is_workbook(changed.path)]
    for changed in workbooks:
        suffix = "." + changed.path.rsplit(".", 1)[-1].lower()
        if suffix in UNREADABLE_SUFFIXES:
            blocks.append(f"#### {code_span(changed.path)}\n\n> [!NOTE]\n> {UNREADABLE_SUFFIXES[suffix]}.")
            continue
        read = read_ods if suffix == ".ods" else read_workbook
        try:
            before = read(changed.before_data) if changed.before_data else {}
            after = read(changed.after_data) if changed.after_data else {}
        except WorkbookReadError as error:
            rendering.failures.append(f"{changed.path} is not a readable workbook")
            blocks.append(f"#### {code_span(changed.path)}\n\n❌ Cannot read the workbook: {cell(str(error), 200)}")
            continue
        read_after[changed.path] = dict(after)
        diffs = [diff for diff in diff_workbooks(before, after) if diff.status != "unchanged"]
        if not diffs:
            blocks.append(f"#### {code_span(changed.path)}\n\nNo cell changed (formatting or metadata only).")
        blocks += [_sheet_block(changed.path, diff) for diff in diffs]
    if blocks:
        lead = f"### Spreadsheets\n\n{plural(len(workbooks), 'workbook')} changed."
        rendering.add(Section(lead=lead, items=tuple(blocks), unit="sheet", joiner="\n\n"))
    rendering.add(_checks_section(inp, read_after, rendering), in_summary=True)
    return rendering


def _checks_section(inp: ReviewInput, workbooks: dict[str, dict[str, Sheet]], rendering: Rendering) -> Section | None:
    checks = [spec for spec in inp.sheet_checks if spec.path in workbooks]
    if not checks:
        return None
    rows = []
    passed = 0
    for spec in checks:
        sheets = workbooks[spec.path]
        result = check_sum(sheets, spec.sheet, spec.cell, spec.sum_of, spec.tolerance)
        rendering.checked += 1
        passed += result.ok
        if not result.ok:
            rendering.failures.append(f"workbook check {spec.name} failed")
        rows.append(
            f"| {cell(spec.name, 63)} | {code_span(spec.path)} | {'✅ pass' if result.ok else '❌ fail'} "
            f"| {cell(result.message, 200)} |"
        )
    lead = "\n".join(
        [
            "### Workbook checks",
            "",
            f"{passed} of {plural(len(rows), 'check')} passed.",
            "",
            "| Check | Workbook | Result | Detail |",
            "|---|---|---|---|",
        ]
    )
    return Section(lead=lead, items=tuple(rows), unit="workbook check")
