"""Reading OpenDocument spreadsheets (.ods) into the workbook model, with the standard library alone.

An .ods file is a zip archive whose `content.xml` holds every sheet; each cell carries what it holds
(`table:formula`, or its text) and, next to it, the value the application last computed
(`office:value`, `office:date-value`, `office:time-value`, `office:boolean-value`,
`office:string-value`, by `office:value-type`). So a formula shows with its cached value exactly as an
.xlsx one does. Formulas are shown as LibreOffice Calc shows them (`of:=SUM([.B2:.B4])` reads
`=SUM(B2:B4)`).

Invariants (the file is untrusted: an agent wrote it):
- a document type declaration is refused before its internal subset is read, so no entity is ever
  declared or expanded (OpenDocument never uses one); external entities are never fetched;
- `content.xml` is read in chunks and refused beyond MAX_CONTENT_BYTES decompressed, however small
  the archive; element nesting is bounded;
- repeated rows and columns (`table:number-rows-repeated`, `table:number-columns-repeated`) are
  counted, never looped over while empty; a non-empty repetition is expanded only when the result
  stays within MAX_CELLS and inside the sheet grid (MAX_ROW x MAX_COLUMN); cell text is bounded per
  cell and in total (a short `text:s` tag stands for many spaces);
- covered cells (the hidden part of a merged cell) take their column but their content is not read,
  like merged cells of an .xlsx workbook; comments, drawings and notes inside a cell are not its text.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from xml.parsers import expat

from atomesh.review.workbook import MAX_CELLS, CellContent, Coordinate, Sheet, WorkbookReadError

ODS_MIMETYPES = frozenset(
    {"application/vnd.oasis.opendocument.spreadsheet", "application/vnd.oasis.opendocument.spreadsheet-template"}
)
MAX_CONTENT_BYTES = 64 * 1024 * 1024  # decompressed content.xml
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # the sheet grid of LibreOffice Calc and Excel
MAX_DEPTH = 256  # element nesting
MAX_TEXT = 32_767  # characters of one cell's text kept (Excel's cell limit)
MAX_TEXT_TOTAL = 16 * 1024 * 1024  # characters of text in all cells (text:s expands a short tag to spaces)
_CHUNK = 64 * 1024

_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_ROW_GROUPS = frozenset({_TABLE + "table-row-group", _TABLE + "table-header-rows", _TABLE + "table-rows"})
_NOT_TEXT = frozenset({_TEXT + "note", _TEXT + "ruby-text", _OFFICE + "annotation", _TEXT + "tracked-changes"})
_DURATION = re.compile(r"^-?PT(\d+)H(\d+)M(\d+(?:\.\d+)?)S$")
_INTEGER = re.compile(r"^-?\d{1,15}$")
_NAMESPACE = re.compile(r"^[A-Za-z][\w.-]*:(?==)")
_STRING_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_PART = r"(?:\$?(?:'(?:[^']|'')+'|[^.'\[\]:\s]+))?\.\$?[A-Za-z]{1,3}\$?[0-9]{1,7}"
_REFERENCE = re.compile(rf"\[({_PART}(?::{_PART})?)\]")


class OpenDocumentRefused(WorkbookReadError):
    """The file is built to exhaust the reader (entities, repetitions, size): refused, with the reason."""


def read_ods(data: bytes) -> dict[str, Sheet]:
    """Sheets by name, in document order, with each non-empty cell's content and cached value."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise WorkbookReadError(f"not a zip archive, which an .ods file is ({error})") from error
    with archive:
        _check_package(archive)
        reader = _ContentReader()
        try:
            with archive.open("content.xml") as content:
                read = 0
                while chunk := content.read(_CHUNK):
                    read += len(chunk)
                    if read > MAX_CONTENT_BYTES:
                        raise OpenDocumentRefused(f"content.xml is larger than {MAX_CONTENT_BYTES:,} bytes unpacked")
                    reader.feed(chunk)
            reader.close()
            if not reader.is_spreadsheet:
                raise WorkbookReadError("content.xml holds no spreadsheet (no office:spreadsheet body)")
        except KeyError as error:
            raise WorkbookReadError("the archive has no content.xml") from error
        except expat.ExpatError as error:
            raise WorkbookReadError(f"content.xml is not well-formed XML: {error}") from error
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as error:
            raise WorkbookReadError(f"content.xml cannot be unpacked: {error}") from error
    return reader.sheets


def _check_package(archive: zipfile.ZipFile) -> None:
    try:
        with archive.open("mimetype") as member:
            mimetype = member.read(200).decode("ascii", "replace").strip()
    except KeyError:
        mimetype = ""
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        raise WorkbookReadError(f"mimetype cannot be unpacked: {error}") from error
    # The specification asks for a mimetype file but does not require one: without it, the body decides.
    if mimetype and mimetype not in ODS_MIMETYPES:
        raise WorkbookReadError(f"not an OpenDocument spreadsheet (mimetype {mimetype[:80]!r})")
    try:
        with archive.open("META-INF/manifest.xml") as member:
            manifest = member.read(1024 * 1024)
    except KeyError:
        return
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as error:
        raise WorkbookReadError(f"META-INF/manifest.xml cannot be unpacked: {error}") from error
    if b"encryption-data" in manifest:
        raise WorkbookReadError("the spreadsheet is password-protected; its cells cannot be read")


def calc_formula(formula: str) -> str:
    """An OpenFormula as LibreOffice Calc shows it: no namespace, references without brackets and dots."""
    match = _NAMESPACE.match(formula)
    namespace = match.group(0)[:-1] if match else ""
    text = formula[match.end() :] if match else formula
    if not text.startswith("="):
        text = "=" + text
    if namespace not in ("", "of", "oooc"):
        return text  # another syntax (such as msoxl:) is shown as written
    pieces: list[str] = []
    position = 0
    for literal in _STRING_LITERAL.finditer(text):
        pieces += [_references(text[position : literal.start()]), literal.group(0)]
        position = literal.end()
    pieces.append(_references(text[position:]))
    return "".join(pieces)


def _references(text: str) -> str:
    def calc(match: re.Match[str]) -> str:
        return ":".join(part[1:] if part.startswith(".") else part for part in match.group(1).split(":"))

    return _REFERENCE.sub(calc, text)


def _count(attributes: dict[str, str], name: str) -> int:
    value = attributes.get(_TABLE + name)
    if value is None:
        return 1
    digits = value.lstrip("0")
    if not (value.isascii() and value.isdigit()) or not digits:
        raise WorkbookReadError(f"table:{name}={value[:20]!r} is not a positive count")
    return int(digits) if len(digits) <= 12 else 10**12  # anything longer lies beyond every grid


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    if _INTEGER.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return None


def _computed(attributes: dict[str, str], text: str) -> object:
    """The value of a cell by its `office:value-type`; None when the cell states none."""
    kind = attributes.get(_OFFICE + "value-type")
    if kind in ("float", "percentage", "currency"):
        number = _number(attributes.get(_OFFICE + "value"))
        return text if number is None else number
    if kind == "date":
        return attributes.get(_OFFICE + "date-value", text)
    if kind == "time":
        duration = attributes.get(_OFFICE + "time-value", "")
        parts = _DURATION.match(duration)
        if parts is None:
            return duration or text
        hours, minutes, seconds = parts.groups()
        return f"{int(hours):02d}:{int(minutes):02d}:{seconds.split('.')[0].zfill(2)}"
    if kind == "boolean":
        return attributes.get(_OFFICE + "boolean-value", "").lower() == "true"
    if kind == "string":
        return attributes.get(_OFFICE + "string-value", text)
    return None


class _ContentReader:
    """A streaming reader of content.xml: one role per open element, cells gathered row by row."""

    def __init__(self) -> None:
        self.sheets: dict[str, Sheet] = {}
        self.is_spreadsheet = False
        self._parser = expat.ParserCreate(namespace_separator=" ")
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._refuse_doctype
        self._parser.EntityDeclHandler = self._refuse_entity
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._characters
        self._roles: list[str] = []
        self._total = 0
        self._sheet_name = ""
        self._cells: dict[Coordinate, CellContent] = {}
        self._row = 1
        self._row_repeat = 1
        self._row_cells: list[tuple[int, CellContent]] = []
        self._column = 1
        self._cell_attributes: dict[str, str] = {}
        self._cell_repeat = 1
        self._paragraphs: list[list[str]] = []
        self._text_size = 0
        self._text_total = 0

    def feed(self, chunk: bytes) -> None:
        self._parser.Parse(chunk, False)

    def close(self) -> None:
        self._parser.Parse(b"", True)

    def _refuse_doctype(self, *_: object) -> None:
        raise OpenDocumentRefused(
            "content.xml declares a document type (<!DOCTYPE>), which OpenDocument never does;"
            " refused so that no entity can be expanded"
        )

    def _refuse_entity(self, *_: object) -> None:
        raise OpenDocumentRefused("content.xml declares an entity; refused so that it cannot be expanded")

    def _role(self, name: str) -> str:
        parent = self._roles[-1] if self._roles else "document"
        if parent == "document" or parent == "other":
            return "spreadsheet" if name == _OFFICE + "spreadsheet" else "other"
        if parent == "spreadsheet":
            return "sheet" if name == _TABLE + "table" else "ignore"
        if parent in ("sheet", "rows"):
            return "row" if name == _TABLE + "table-row" else "rows" if name in _ROW_GROUPS else "ignore"
        if parent == "row":
            covered = "covered" if name == _TABLE + "covered-table-cell" else "ignore"
            return "cell" if name == _TABLE + "table-cell" else covered
        if parent == "cell":
            return "text" if name in (_TEXT + "p", _TEXT + "h") else "ignore"
        if parent == "text":
            return "ignore" if name in _NOT_TEXT or not name.startswith(_TEXT) else "text"
        return "ignore"

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        if len(self._roles) >= MAX_DEPTH:
            raise OpenDocumentRefused(f"content.xml nests elements deeper than {MAX_DEPTH}")
        role = self._role(name)
        self._roles.append(role)
        if role == "spreadsheet":
            self.is_spreadsheet = True
        elif role == "sheet":
            self._sheet_name = attributes.get(_TABLE + "name", f"Sheet{len(self.sheets) + 1}")
            self._cells, self._row = {}, 1
        elif role == "row":
            self._row_repeat = _count(attributes, "number-rows-repeated")
            self._row_cells, self._column = [], 1
        elif role in ("cell", "covered"):
            self._cell_repeat = _count(attributes, "number-columns-repeated")
            self._cell_attributes, self._paragraphs, self._text_size = attributes, [], 0
        elif role == "text":
            if self._roles[-2] == "cell":
                self._paragraphs.append([])
            elif name == _TEXT + "s":
                self._add_text(" " * min(_count_spaces(attributes), MAX_TEXT))
            elif name == _TEXT + "tab":
                self._add_text("\t")
            elif name == _TEXT + "line-break":
                self._add_text("\n")

    def _characters(self, data: str) -> None:
        if self._roles and self._roles[-1] == "text":
            self._add_text(data)

    def _add_text(self, data: str) -> None:
        room = MAX_TEXT - self._text_size
        if room > 0 and self._paragraphs:
            kept = data[:room]
            self._paragraphs[-1].append(kept)
            self._text_size += len(kept)
            self._text_total += len(kept)
            if self._text_total > MAX_TEXT_TOTAL:
                raise OpenDocumentRefused(f"more than {MAX_TEXT_TOTAL:,} characters of cell text")

    def _end(self, _name: str) -> None:
        role = self._roles.pop()
        if role == "cell":
            self._end_cell()
        elif role == "covered":
            self._column += self._cell_repeat
        elif role == "row":
            self._end_row()
        elif role == "sheet":
            self.sheets[self._sheet_name] = Sheet(name=self._sheet_name, cells=self._cells)

    def _end_cell(self) -> None:
        text = "\n".join("".join(chunks) for chunks in self._paragraphs)
        attributes = self._cell_attributes
        computed = _computed(attributes, text)
        formula = attributes.get(_TABLE + "formula")
        content: CellContent | None = None
        if formula:
            content = CellContent(value=calc_formula(formula), computed=computed)
        elif computed is not None:
            content = CellContent(value=computed)
        elif text:
            content = CellContent(value=text)
        if content is not None:
            last = self._column + self._cell_repeat - 1
            if last > MAX_COLUMN:
                raise OpenDocumentRefused(f"sheet {self._sheet_name!r} has a value beyond column {MAX_COLUMN:,}")
            self._spend(self._cell_repeat)
            self._row_cells += [(column, content) for column in range(self._column, last + 1)]
        self._column += self._cell_repeat

    def _end_row(self) -> None:
        if self._row_cells:
            last = self._row + self._row_repeat - 1
            if last > MAX_ROW:
                raise OpenDocumentRefused(f"sheet {self._sheet_name!r} has a value beyond row {MAX_ROW:,}")
            self._spend(len(self._row_cells) * (self._row_repeat - 1))
            for row in range(self._row, last + 1):
                for column, content in self._row_cells:
                    self._cells[(row, column)] = content
        self._row += self._row_repeat

    def _spend(self, cells: int) -> None:
        self._total += cells
        if self._total > MAX_CELLS:
            raise OpenDocumentRefused(f"more than {MAX_CELLS:,} non-empty cells (counting repeated rows and columns)")


def _count_spaces(attributes: dict[str, str]) -> int:
    value = attributes.get(_TEXT + "c", "1")
    return int(value[:6]) if value.isascii() and value.isdigit() else 1
