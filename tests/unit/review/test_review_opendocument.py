"""OpenDocument spreadsheets (.ods) read into the workbook model: values, formulas with cached values,
repetitions and covered cells, files LibreOffice wrote, and hostile files refused with a reason."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from opendocuments import MANIFEST, ods, package
from review_cases import PROVENANCE
from workbooks import xlsx

from atomesh.review import ChangedFile, ReviewInput, build_surface
from atomesh.review.opendocument import (
    MAX_CONTENT_BYTES,
    OpenDocumentRefused,
    calc_formula,
    read_ods,
)
from atomesh.review.workbook import MAX_CELLS, CellContent, WorkbookReadError, read_workbook

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
)
LIBREOFFICE_FILE = Path(__file__).parent / "data" / "plans-libreoffice.ods"


def sheet(rows: str, name: str = "S") -> bytes:
    """An .ods file with one sheet made of the given table rows."""
    return package(
        f'<?xml version="1.0"?><office:document-content {NS}><office:body><office:spreadsheet>'
        f'<table:table table:name="{name}">{rows}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )


def test_an_ods_file_reads_as_the_same_workbook_as_its_xlsx_twin() -> None:
    cells = {
        "Prices": {"A1": "Plan", "B2": 9, "B3": 29.5, "C9": "far", "B4": ("SUM([.B2:.B3])", 38.5)},
        "Empty": {},
    }
    twin = {"Prices": {**cells["Prices"], "B4": ("SUM(B2:B3)", 38.5)}, "Empty": {}}
    assert read_ods(ods(cells)) == read_workbook(xlsx(twin))


def test_a_file_libreoffice_wrote_reads_with_formulas_as_calc_shows_them() -> None:
    # Converted by LibreOffice Calc 7.4 (soffice --convert-to ods) from the .xlsx of these cells.
    book = read_ods(LIBREOFFICE_FILE.read_bytes())
    assert list(book) == ["Prices", "Discounts"]
    assert book["Prices"].cells[(5, 2)] == CellContent("=SUM(B2:B4)", 137)
    assert book["Prices"].cells[(5, 3)] == CellContent("=B5*0.92", 126.04)
    assert book["Discounts"].cells[(2, 2)] == CellContent("=SUM($Prices.B2:B4)*(1-B1)", 116.45)
    assert book["Prices"].cells[(4, 1)] == CellContent("Business")
    assert len(book["Prices"].cells) == 11


def test_values_take_their_type_from_office_value_type_and_text_from_the_cell_paragraphs() -> None:
    row = (
        "<table:table-row>"
        '<table:table-cell office:value-type="date" office:date-value="2026-03-01"><text:p>03/01/26</text:p>'
        "</table:table-cell>"
        '<table:table-cell office:value-type="time" office:time-value="PT09H05M07S"><text:p>9:05</text:p>'
        "</table:table-cell>"
        '<table:table-cell office:value-type="percentage" office:value="0.15"><text:p>15%</text:p></table:table-cell>'
        '<table:table-cell office:value-type="currency" office:currency="EUR" office:value="12.5">'
        "<text:p>12,50 €</text:p></table:table-cell>"
        '<table:table-cell office:value-type="string"><text:p>two<text:s text:c="3"/>words</text:p>'
        "<text:p>second <text:span>line</text:span></text:p>"
        "<office:annotation><text:p>a reviewer comment</text:p></office:annotation></table:table-cell>"
        "<table:table-cell><text:p>no value type</text:p></table:table-cell>"
        '<table:table-cell table:formula="of:=1/0" office:value-type="string" office:string-value="">'
        "<text:p>#DIV/0!</text:p></table:table-cell>"
        '<table:table-cell table:formula="of:=[.A1]"/>'
        "</table:table-row>"
    )
    cells = read_ods(sheet(row))["S"].cells
    assert [cells[(1, column)] for column in range(1, 9)] == [
        CellContent("2026-03-01"),
        CellContent("09:05:07"),
        CellContent(0.15),
        CellContent(12.5),
        CellContent("two   words\nsecond line"),
        CellContent("no value type"),
        CellContent("=1/0", ""),
        CellContent("=A1", None),  # no cached value: shown as "not computed"
    ]


def test_repetitions_expand_values_and_covered_cells_keep_their_column_without_content() -> None:
    rows = (
        '<table:table-row table:number-rows-repeated="2">'
        '<table:table-cell table:number-columns-repeated="3" office:value-type="float" office:value="0"/>'
        '<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>merged</text:p>'
        "</table:table-cell>"
        '<table:covered-table-cell office:value-type="string"><text:p>hidden</text:p></table:covered-table-cell>'
        '<table:table-cell office:value-type="float" office:value="7"/>'
        "</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048570"><table:table-cell table:number-columns-repeated="1024"/>'
        "</table:table-row>"
        '<table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
        '<table:table-cell office:value-type="string"><text:p>last</text:p></table:table-cell></table:table-row>'
    )
    cells = read_ods(sheet(rows))["S"].cells
    expected = {(row, column): CellContent(0) for row in (1, 2) for column in (1, 2, 3)}
    expected |= {(row, 4): CellContent("merged") for row in (1, 2)} | {(row, 6): CellContent(7) for row in (1, 2)}
    expected[(1_048_573, 16_384)] = CellContent("last")
    assert cells == expected


@pytest.mark.parametrize(
    ("formula", "shown"),
    [
        ("of:=SUM([.B2:.B11])", "=SUM(B2:B11)"),
        ("of:=[$'Q1 plan'.$A$1]+[.C3]", "=$'Q1 plan'.$A$1+C3"),
        ('of:=IF([.A1]="[.B2]";1;0)', '=IF(A1="[.B2]";1;0)'),
        ("oooc:=[.A1]*2", "=A1*2"),
        ("msoxl:=SUM(A1:A3)", "=SUM(A1:A3)"),
        ("of:=[.A1:.A3 ]", "=[.A1:.A3 ]"),  # not a reference as Calc writes one: shown as written
    ],
)
def test_formulas_read_as_calc_shows_them(formula: str, shown: str) -> None:
    assert calc_formula(formula) == shown


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + f']><office:document-content {NS}><office:body><office:spreadsheet><table:table table:name="S">'
    '<table:table-row><table:table-cell office:value-type="string"><text:p>&lol9;</text:p></table:table-cell>'
    "</table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (package(BILLION_LAUGHS), "declares a document type"),
        (
            sheet(
                '<table:table-row><table:table-cell table:number-columns-repeated="999999999999999999999999" '
                'office:value-type="float" office:value="1"/></table:table-row>'
            ),
            "beyond column 16,384",
        ),
        (
            sheet(
                '<table:table-row table:number-rows-repeated="1000000">'
                '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>'
                "</table:table-row>"
            ),
            f"more than {MAX_CELLS:,} non-empty cells",
        ),
        (
            sheet(
                '<table:table-row table:number-rows-repeated="4294967296">'
                '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>'
            ),
            "beyond row 1,048,576",
        ),
        (
            sheet(
                "<table:table-row>"
                + '<table:table-cell><text:p><text:s text:c="999999"/></text:p></table:table-cell>' * 600
                + "</table:table-row>"
            ),
            "characters of cell text",
        ),
        (sheet("<table:table-row>" + "<text:span>" * 300 + "</text:span>" * 300 + "</table:table-row>"), "deeper"),
        (package(b" " * (MAX_CONTENT_BYTES + 1)), "larger than 67,108,864 bytes unpacked"),
    ],
    ids=["entity-expansion", "column-repeat", "row-and-column-repeat", "row-repeat", "spaces", "nesting", "zip-bomb"],
)
def test_a_hostile_file_is_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(OpenDocumentRefused, match=re.escape(reason)):
        read_ods(data)


def test_an_empty_row_repeated_past_the_grid_costs_nothing_and_holds_nothing() -> None:
    rows = (
        '<table:table-row table:number-rows-repeated="999999999999999999">'
        '<table:table-cell table:number-columns-repeated="999999999999"/></table:table-row>'
    )
    assert read_ods(sheet(rows))["S"].cells == {}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip", "not a zip archive"),
        (package("<x/>", mimetype="application/vnd.oasis.opendocument.text"), "not an OpenDocument spreadsheet"),
        (
            package(
                "<x/>",
                manifest=MANIFEST.replace("</manifest:manifest>", "<manifest:encryption-data/></manifest:manifest>"),
            ),
            "password",
        ),
        (package("<office:document-content"), "not well-formed XML"),
        (package(f"<office:document-content {NS}/>", mimetype=""), "no office:spreadsheet body"),
        (
            sheet('<table:table-row table:number-rows-repeated="-2"><table:table-cell/></table:table-row>'),
            "table:number-rows-repeated='-2' is not a positive count",
        ),
    ],
)
def test_a_file_that_is_not_a_readable_spreadsheet_says_why(data: bytes, reason: str) -> None:
    with pytest.raises(WorkbookReadError, match=re.escape(reason)):
        read_ods(data)


def test_a_spreadsheet_without_a_mimetype_file_is_read_by_its_body() -> None:
    rows = '<table:table-row><table:table-cell office:value-type="float" office:value="3"/></table:table-row>'
    content = f"<office:document-content {NS}><office:body><office:spreadsheet><table:table table:name='S'>{rows}"
    data = package(content + "</table:table></office:spreadsheet></office:body></office:document-content>", "")
    assert read_ods(data)["S"].cells == {(1, 1): CellContent(3)}


def test_a_file_without_content_says_so() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    with pytest.raises(WorkbookReadError, match=re.escape("no content.xml")):
        read_ods(out.getvalue())


def test_a_hostile_workbook_fails_the_surface_with_a_note_instead_of_hanging() -> None:
    inp = ReviewInput(
        artifact_type="spreadsheet",
        purpose="p",
        provenance=PROVENANCE,
        files=(ChangedFile("book.ods", "added", binary=True, after_data=package(BILLION_LAUGHS)),),
    )
    surface = build_surface(inp)
    assert surface.check_conclusion == "failure"
    assert "book.ods is not a readable workbook" in surface.check_title
    assert "❌ Cannot read the workbook: content.xml declares a document type" in surface.body
