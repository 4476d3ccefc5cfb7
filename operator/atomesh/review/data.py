"""The data surface: a table diff of CSV and TSV files, keyed by an id-like column.

Rows are matched by a key column: the first column named like an id (`id`, `key`, `uuid`, `*_id`)
present in both versions, else the first column both share. When the key is not unique, rows are
compared as a multiset (added and removed, never "changed"), which is honest about what can be
matched. Samples are bounded in rows, columns and cell width so a million-row file still reads.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from atomesh.review.code import add_changes_and_checks
from atomesh.review.markdown import cell, code_span, plural, table
from atomesh.review.rendering import (
    Rendering,
)
from atomesh.review.surface import ChangedFile, ReviewInput
from atomesh.review.truncation import Section

DATA_SUFFIXES = {".csv": ",", ".tsv": "\t"}
SAMPLE_ROWS = 10
SAMPLE_COLUMNS = 8
CELL_LIMIT = 40
_ID_NAMES = frozenset({"id", "key", "uuid", "guid", "pk"})

Row = tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A parsed CSV/TSV: its header and rows (each padded or cut to the header's width)."""

    header: Row
    rows: tuple[Row, ...]
    ragged: int = 0  # rows whose width differed from the header's


class TableParseError(ValueError):
    """The text is not valid CSV/TSV."""


def parse_table(path: str, text: str) -> Table:
    """Parse CSV (or TSV by suffix); an empty file is an empty table."""
    delimiter = DATA_SUFFIXES.get(PurePosixPath(path).suffix.lower(), ",")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        records = [tuple(record) for record in reader if record]
    except csv.Error as error:
        raise TableParseError(str(error)) from error
    if not records:
        return Table(header=(), rows=())
    header, width = records[0], len(records[0])
    ragged = sum(1 for record in records[1:] if len(record) != width)
    rows = tuple((*record[:width], *([""] * (width - len(record)))) for record in records[1:])
    return Table(header=header, rows=rows, ragged=ragged)


def key_column(before: Row, after: Row) -> str | None:
    """The column rows are matched by, or None when the versions share no column."""
    shared = [name for name in after if name in before]
    for name in shared:
        lowered = name.strip().lower()
        if lowered in _ID_NAMES or lowered.endswith(("_id", " id", "-id")):
            return name
    return shared[0] if shared else None


@dataclass(frozen=True)
class TableDiff:
    """Differences between two versions of a table."""

    key: str | None
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    added: tuple[Row, ...] = ()
    removed: tuple[Row, ...] = ()
    # (key, {column: (before, after)}) for rows matched by key whose shared cells differ.
    changed: tuple[tuple[str, dict[str, tuple[str, str]]], ...] = ()
    header: Row = ()
    old_header: Row = ()
    keyed: bool = True
    rows_before: int = 0
    rows_after: int = 0


def diff_tables(before: Table, after: Table) -> TableDiff:
    """Rows added, removed and changed (by key), and columns added and removed."""
    key = key_column(before.header, after.header)
    shared = [name for name in after.header if name in before.header]
    added, removed, changed, keyed = _diff_rows(before, after, key, shared)
    return TableDiff(
        key=key,
        columns_added=tuple(name for name in after.header if name not in before.header),
        columns_removed=tuple(name for name in before.header if name not in after.header),
        added=added,
        removed=removed,
        changed=changed,
        header=after.header,
        old_header=before.header,
        keyed=keyed,
        rows_before=len(before.rows),
        rows_after=len(after.rows),
    )


Changed = tuple[tuple[str, dict[str, tuple[str, str]]], ...]


def _diff_rows(
    before: Table, after: Table, key: str | None, shared: list[str]
) -> tuple[tuple[Row, ...], tuple[Row, ...], Changed, bool]:
    old_keys = [row[before.header.index(key)] for row in before.rows] if key is not None else []
    new_keys = [row[after.header.index(key)] for row in after.rows] if key is not None else []
    if key is None or len(set(old_keys)) != len(old_keys) or len(set(new_keys)) != len(new_keys):
        # No unique key: whole rows (over the shared columns) are compared as a multiset.
        def project(row: Row, header: Row) -> Row:
            return tuple(row[header.index(name)] for name in shared)

        old_rows = Counter(project(row, before.header) for row in before.rows)
        new_rows = Counter(project(row, after.header) for row in after.rows)
        gone, new_only = old_rows - new_rows, new_rows - old_rows
        added = tuple(row for row in after.rows if _take(new_only, project(row, after.header)))
        removed = tuple(row for row in before.rows if _take(gone, project(row, before.header)))
        return added, removed, (), False
    old_by_key = dict(zip(old_keys, before.rows, strict=True))
    changed: list[tuple[str, dict[str, tuple[str, str]]]] = []
    added_rows: list[Row] = []
    for row_key, row in zip(new_keys, after.rows, strict=True):
        old_row = old_by_key.get(row_key)
        if old_row is None:
            added_rows.append(row)
            continue
        pairs = {name: (old_row[before.header.index(name)], row[after.header.index(name)]) for name in shared}
        cells = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
        if cells:
            changed.append((row_key, cells))
    new_key_set = set(new_keys)
    removed_rows = tuple(row for row_key, row in zip(old_keys, before.rows, strict=True) if row_key not in new_key_set)
    return tuple(added_rows), removed_rows, tuple(changed), True


def _take(counter: Counter[Row], row: Row) -> bool:
    """Consume one occurrence of `row` from `counter`; True when there was one."""
    if counter[row] > 0:
        counter[row] -= 1
        return True
    return False


def _sample(header: Row, rows: tuple[Row, ...]) -> list[str]:
    columns = header[:SAMPLE_COLUMNS]
    shown_header = [cell(name, CELL_LIMIT) for name in columns] + (["…"] if len(header) > SAMPLE_COLUMNS else [])
    body = [
        [cell(value, CELL_LIMIT) for value in row[:SAMPLE_COLUMNS]] + (["…"] if len(header) > SAMPLE_COLUMNS else [])
        for row in rows[:SAMPLE_ROWS]
    ]
    lines = table(shown_header, body)
    if len(rows) > SAMPLE_ROWS:
        lines += ["", f"_… {plural(len(rows) - SAMPLE_ROWS, 'more row')}._"]
    return lines


def _changed_sample(result: TableDiff) -> list[str]:
    rows = [
        (cell(row_key, CELL_LIMIT), cell(name, CELL_LIMIT), cell(old, CELL_LIMIT), cell(new, CELL_LIMIT))
        for row_key, cells in result.changed[:SAMPLE_ROWS]
        for name, (old, new) in sorted(cells.items())[:SAMPLE_COLUMNS]
    ]
    lines = table([cell(result.key or "row", CELL_LIMIT), "Column", "Before", "After"], rows)
    if len(result.changed) > SAMPLE_ROWS:
        lines += ["", f"_… {plural(len(result.changed) - SAMPLE_ROWS, 'more changed row')}._"]
    return lines


def _parse_both(changed: ChangedFile) -> tuple[Table, Table]:
    """Both versions; a broken old version reads as empty, a broken new one is an error."""
    after = parse_table(changed.path, changed.after or "")
    try:
        before = parse_table(changed.previous_path or changed.path, changed.before or "")
    except TableParseError:
        before = Table(header=(), rows=())
    return before, after


def _file_block(changed: ChangedFile) -> tuple[str, str | None]:
    """The file's block and, when its new version does not parse, the failure."""
    head = f"#### {code_span(changed.path)} ({changed.status})"
    if changed.binary or changed.after is None:
        return head + "\n\n_" + ("Binary file; not compared." if changed.binary else "File deleted.") + "_", None
    try:
        before, after = _parse_both(changed)
    except TableParseError as error:
        return f"{head}\n\n❌ **Does not parse:** {cell(str(error), 300)}", f"{changed.path} does not parse"
    result = diff_tables(before, after)
    facts = [
        f"{result.rows_before} → {result.rows_after} rows",
        f"{len(result.added)} added",
        f"{len(result.removed)} removed",
    ]
    if result.keyed:
        facts.append(f"{len(result.changed)} changed")
    lines = [head, "", ", ".join(facts) + "."]
    if result.key is None:
        lines.append("No column is shared by both versions; rows are compared whole.")
    elif result.keyed:
        lines.append(f"Rows matched by key column {code_span(result.key)}.")
    else:
        lines.append(f"Key column {code_span(result.key)} is not unique; rows are compared whole.")
    if result.columns_added:
        lines.append("Columns added: " + ", ".join(code_span(name) for name in result.columns_added) + ".")
    if result.columns_removed:
        lines.append("Columns removed: " + ", ".join(code_span(name) for name in result.columns_removed) + ".")
    samples = (("Added rows", result.added, result.header), ("Removed rows", result.removed, result.old_header))
    for title, rows, header in samples:
        if rows:
            lines += ["", f"**{title}**", "", *_sample(header, rows)]
    if result.changed:
        lines += ["", "**Changed rows**", "", *_changed_sample(result)]
    if after.ragged:
        lines += ["", f"⚠️ {plural(after.ragged, 'row')} of the new version differ in width from the header."]
    return "\n".join(lines), None


def is_data(path: str) -> bool:
    """Files this surface understands."""
    return PurePosixPath(path).suffix.lower() in DATA_SUFFIXES


def render_data(inp: ReviewInput, files: tuple[ChangedFile, ...]) -> Rendering:
    """Table diff per CSV/TSV file; checks and validations decide the verdict."""
    tables = [changed for changed in files if is_data(changed.path)]
    lead = "### Table changes"
    if not tables:
        lead += "\n\n_No CSV or TSV file changed._"
    rendering = Rendering()
    blocks = [_file_block(changed) for changed in tables]
    items = tuple(block for block, _ in blocks)
    rendering.add(Section(lead=lead, items=items, unit="table", joiner="\n\n"), in_summary=True)
    rendering.failures = [failure for _, failure in blocks if failure]
    rendering.checked = sum(1 for changed in tables if changed.after is not None and not changed.binary)
    add_changes_and_checks(rendering, inp, files)
    return rendering
