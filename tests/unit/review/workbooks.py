# ruff: noqa: E501 -- OOXML boilerplate reads best unwrapped
"""Minimal .xlsx files written by hand, so formulas can carry the cached value Excel would store
(openpyxl writes formulas without one). Deterministic: fixed zip timestamps."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

CellSpec = str | int | float | tuple[str, float]  # a value, or (formula without "=", cached value)

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
{sheets}
</Types>"""
_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_SHEET_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"


def _cell_xml(coordinate: str, spec: CellSpec) -> str:
    if isinstance(spec, tuple):
        formula, cached = spec
        return f'<c r="{coordinate}"><f>{escape(formula)}</f><v>{cached}</v></c>'
    if isinstance(spec, str):
        return f'<c r="{coordinate}" t="inlineStr"><is><t>{escape(spec)}</t></is></c>'
    return f'<c r="{coordinate}"><v>{spec}</v></c>'


def _sheet_xml(cells: dict[str, CellSpec]) -> str:
    rows: dict[int, list[tuple[int, str]]] = {}
    for coordinate, spec in cells.items():
        letters, row = coordinate_from_string(coordinate)
        column = column_index_from_string(letters)
        rows.setdefault(row, []).append((column, _cell_xml(coordinate, spec)))
    body = "".join(f'<row r="{row}">' + "".join(xml for _, xml in sorted(rows[row])) + "</row>" for row in sorted(rows))
    return f"{_XML}\n<worksheet {_NS}><sheetData>{body}</sheetData></worksheet>"


def xlsx(sheets: dict[str, dict[str, CellSpec]]) -> bytes:
    """An .xlsx workbook with the given sheets (in order) and cells."""
    names = list(sheets)
    overrides = "\n".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {_NS} {_REL_NS}><sheets>'
        + "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
        + "</sheets></workbook>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_SHEET_TYPE}" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(names) + 1)
        )
        + "</Relationships>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, text: str) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)

        put("[Content_Types].xml", _CONTENT_TYPES.format(sheets=overrides))
        put("_rels/.rels", _ROOT_RELS)
        put("xl/workbook.xml", workbook)
        put("xl/_rels/workbook.xml.rels", rels)
        for i, name in enumerate(names, 1):
            put(f"xl/worksheets/sheet{i}.xml", _sheet_xml(sheets[name]))
    return out.getvalue()
