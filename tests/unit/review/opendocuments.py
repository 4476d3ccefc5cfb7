"""Minimal .ods files written by hand, laid out as LibreOffice Calc writes them: gaps and the empty rest
of each row and sheet as repeated empty cells and rows, formulas in OpenFormula (`of:=SUM([.B2:.B3])`)
with their cached value next to them. Deterministic: fixed zip timestamps."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

CellSpec = str | int | float | bool | tuple[str, float]  # a value, or (OpenFormula without "of:=", cached value)

MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.3"'
)
MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="{MIMETYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def cell_xml(spec: CellSpec) -> str:
    if isinstance(spec, tuple):
        formula, cached = spec
        return (
            f'<table:table-cell table:formula={quoteattr("of:=" + formula)} office:value-type="float" '
            f'office:value="{cached}"><text:p>{cached}</text:p></table:table-cell>'
        )
    if isinstance(spec, bool):
        word = "true" if spec else "false"
        return (
            f'<table:table-cell office:value-type="boolean" office:boolean-value="{word}">'
            f"<text:p>{word.upper()}</text:p></table:table-cell>"
        )
    if isinstance(spec, str):
        return f'<table:table-cell office:value-type="string"><text:p>{escape(spec)}</text:p></table:table-cell>'
    return (
        f'<table:table-cell office:value-type="float" office:value="{spec}"><text:p>{spec}</text:p></table:table-cell>'
    )


def _empty(count: int) -> str:
    repeat = f' table:number-columns-repeated="{count}"' if count > 1 else ""
    return f"<table:table-cell{repeat}/>" if count else ""


def table_xml(name: str, cells: dict[str, CellSpec]) -> str:
    rows: dict[int, dict[int, CellSpec]] = {}
    for coordinate, spec in cells.items():
        letters, row = coordinate_from_string(coordinate)
        rows.setdefault(row, {})[column_index_from_string(letters)] = spec
    width = max((max(row) for row in rows.values()), default=1)
    out = [
        f"<table:table table:name={quoteattr(name)}>",
        f'<table:table-column table:number-columns-repeated="{width}"/>',
    ]
    current = 1
    for number in sorted(rows):
        if number > current:
            out.append(
                f'<table:table-row table:number-rows-repeated="{number - current}">{_empty(1024)}</table:table-row>'
            )
        column, row_xml = 1, []
        for index in sorted(rows[number]):
            row_xml += [_empty(index - column), cell_xml(rows[number][index])]
            column = index + 1
        row_xml.append(_empty(1025 - column))
        out.append("<table:table-row>" + "".join(row_xml) + "</table:table-row>")
        current = number + 1
    out.append(f'<table:table-row table:number-rows-repeated="{1_048_577 - current}">{_empty(1024)}</table:table-row>')
    out.append("</table:table>")
    return "".join(out)


def content_xml(tables: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {NAMESPACES}>'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    )


def package(content: str | bytes, mimetype: str = MIMETYPE, manifest: str = MANIFEST) -> bytes:
    """An OpenDocument zip: the mimetype first and stored, as the specification asks (none when empty)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = (2026, 1, 1, 0, 0, 0)
        if mimetype:
            archive.writestr(zipfile.ZipInfo("mimetype", date_time=stamp), mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(zipfile.ZipInfo("META-INF/manifest.xml", date_time=stamp), manifest)
        info = zipfile.ZipInfo("content.xml", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, content)
    return out.getvalue()


def ods(sheets: dict[str, dict[str, CellSpec]]) -> bytes:
    """An .ods spreadsheet with the given sheets (in order) and cells."""
    return package(content_xml("".join(table_xml(name, cells) for name, cells in sheets.items())))
