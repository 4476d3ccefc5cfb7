"""Rendering time of the spreadsheet and visual surfaces: a 50-sheet workbook as .xlsx (read twice
with openpyxl, compared cell by cell, laid out) and as .ods (read with the standard library's expat),
and 10 routes x 3 viewports rendered before and after in headless Chromium, compared pixel by pixel
and laid out; and N changed 5-slide decks rendered before and after with LibreOffice (skipped when it is
not installed). Run by hand from the repository root, after `make install browser office`:

python -m bench.review_visual [--sheets 50 --rows 200 --columns 10] [--routes 10] [--decks 1 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import git
from openpyxl import Workbook
from pptx import Presentation

from atomesh.api.surfaces import PageRendering, Viewport
from atomesh.review import ChangedFile, Provenance, ReviewInput, build_surface
from atomesh.review.surface import SheetCheckSpec
from atomesh.runner.publish_browser import Renderer
from atomesh.runner.publish_office import office_tools, render_document_pages
from atomesh.runner.publish_visual import VisualAssets, collect_pages

PROVENANCE = Provenance("bench", "default", "bench-1", "inline@0", "0" * 64, "litellm", "claude-sonnet-4-5", "manual")
VIEWPORTS = [
    Viewport(name="desktop", width=1280, height=800),
    Viewport(name="tablet", width=768, height=1024),
    Viewport(name="mobile", width=390, height=844),
]


def workbook(sheets: int, rows: int, columns: int, changed_every: int) -> bytes:
    """`sheets` sheets of rows x columns numbers and a total row; every `changed_every`-th cell differs
    when `changed_every` is not 0."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for index in range(sheets):
        sheet = book.create_sheet(f"Sheet {index + 1}")
        for row in range(1, rows + 1):
            values = []
            for column in range(1, columns + 1):
                value = row * column + index
                if changed_every and (row * columns + column) % changed_every == 0:
                    value += 1
                values.append(value)
            sheet.append(values)
        sheet.append([f"=SUM({chr(64 + column)}1:{chr(64 + column)}{rows})" for column in range(1, columns + 1)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def opendocument(sheets: int, rows: int, columns: int, changed_every: int) -> bytes:
    """The same workbook as `workbook` in OpenDocument, laid out as LibreOffice Calc writes it, with the
    totals' cached values."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body><office:spreadsheet>']
    for index in range(sheets):
        parts.append(f'<table:table table:name="Sheet {index + 1}">')
        totals = [0] * columns
        for row in range(1, rows + 1):
            parts.append("<table:table-row>")
            for column in range(1, columns + 1):
                value = row * column + index
                if changed_every and (row * columns + column) % changed_every == 0:
                    value += 1
                totals[column - 1] += value
                parts.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p>'
                    "</table:table-cell>"
                )
            parts.append(f'<table:table-cell table:number-columns-repeated="{16384 - columns}"/></table:table-row>')
        parts.append("<table:table-row>")
        for column in range(1, columns + 1):
            letter = chr(64 + column)
            parts.append(
                f'<table:table-cell table:formula="of:=SUM([.{letter}1:.{letter}{rows}])" office:value-type="float"'
                f' office:value="{totals[column - 1]}"><text:p>{totals[column - 1]}</text:p></table:table-cell>'
            )
        parts.append(f'</table:table-row><table:table-row table:number-rows-repeated="{1048575 - rows}">')
        parts.append('<table:table-cell table:number-columns-repeated="16384"/></table:table-row></table:table>')
    parts.append("</office:spreadsheet></office:body></office:document-content>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", "".join(parts))
    return out.getvalue()


def bench_workbook(sheets: int, rows: int, columns: int, repeat: int, suffix: str = "xlsx") -> str:
    write = opendocument if suffix == "ods" else workbook
    before, after = write(sheets, rows, columns, 0), write(sheets, rows, columns, 97)
    path = f"book.{suffix}"
    checks = tuple(
        SheetCheckSpec(f"total-{index}", path, f"Sheet {index + 1}", f"A{rows + 1}", f"A1:A{rows}")
        for index in range(sheets)
    )
    inp = ReviewInput(
        artifact_type="spreadsheet",
        purpose="bench",
        provenance=PROVENANCE,
        files=(ChangedFile(path, "modified", binary=True, before_data=before, after_data=after),),
        sheet_checks=checks,
    )
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        surface = build_surface(inp)
        times.append(time.perf_counter() - start)
    size = f"{len(before) / 1024:.0f} KiB"
    return (
        f"{path}: {sheets} sheets x {rows} rows x {columns} columns ({size}): median {statistics.median(times):.2f}s,"
        f" min {min(times):.2f}s over {repeat}; body {len(surface.body):,} characters"
    )


def page(route: int, title: str) -> str:
    plans = "".join(f"<div class='plan'><h2>Plan {n}</h2><p>${n * 9}</p></div>" for n in range(1, 5))
    return (
        "<html><head><style>body{font-family:sans-serif;margin:0;padding:32px}.plan{display:inline-block;"
        f"width:180px;border:1px solid #ccc;margin:8px;padding:8px}}</style></head><body><h1>{title} {route}</h1>"
        f"<p>{'Lorem ipsum dolor sit amet. ' * 40}</p>{plans}</body></html>"
    )


def bench_pages(routes: int, repeat: int) -> str:
    times, assets = [], VisualAssets()
    with tempfile.TemporaryDirectory(prefix="atomesh-bench-") as scratch:
        repo = git.Repo.init(scratch, initial_branch="main")
        actor = git.Actor("bench", "bench@example.com")
        for title in ("Welcome", "Say hello"):
            for route in range(routes):
                Path(scratch, "site").mkdir(exist_ok=True)
                Path(scratch, "site", f"page{route}.html").write_text(page(route, title), encoding="utf-8")
            repo.git.add("--all")
            repo.index.commit(title, author=actor, committer=actor)
        base, head = repo.commit("HEAD~1").hexsha, repo.head.commit.hexsha
        pages = PageRendering(root="site", routes=[f"page{n}.html" for n in range(routes)], viewports=VIEWPORTS)
        with Renderer(os.environ) as renderer:
            for _ in range(repeat):
                assets = VisualAssets()
                start = time.perf_counter()
                collect_pages(repo, base, head, pages, renderer, assets)
                times.append(time.perf_counter() - start)
        repo.close()
    evidence = assets.evidence(lambda path: f"https://example.com/raw/{path}")
    inp = ReviewInput(artifact_type="visual", purpose="bench", provenance=PROVENANCE, files=(), visuals=evidence)
    start = time.perf_counter()
    build_surface(inp)
    layout = time.perf_counter() - start
    views = routes * len(VIEWPORTS)
    return (
        f"pages {routes} routes x {len(VIEWPORTS)} viewports ({views} views, {2 * views} screenshots):"
        f" median {statistics.median(times):.2f}s ({statistics.median(times) / views:.2f}s a view),"
        f" min {min(times):.2f}s over {repeat}; notes {len(assets.notes)}; laying out the body {layout * 1000:.1f} ms"
    )


def deck(index: int, changed: bool) -> bytes:
    presentation = Presentation()
    for slide_number in range(1, 6):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = f"Deck {index} slide {slide_number}"
        figure = 1.2 + (0.1 if changed and slide_number == 2 else 0)
        slide.placeholders[1].text = f"Revenue ${figure:.1f}M\nChurn 3%"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def bench_documents(decks: int, repeat: int) -> str:
    files = tuple(
        ChangedFile(f"decks/d{n}.pptx", "modified", binary=True, before_data=deck(n, False), after_data=deck(n, True))
        for n in range(decks)
    )
    times, pages = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        rendered = render_document_pages(files, os.environ)
        times.append(time.perf_counter() - start)
        pages = sum(len(sides) for by_side in rendered.pages.values() for sides in by_side.values())
    median = statistics.median(times)
    return (
        f"documents {decks} decks x 5 slides, before and after ({2 * decks} files, {pages} pages): median"
        f" {median:.2f}s ({median / (2 * decks):.2f}s a file), min {min(times):.2f}s over {repeat}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sheets", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--routes", type=int, default=10)
    parser.add_argument("--decks", type=int, nargs="*", default=[1, 5])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs", flush=True)
    print(bench_workbook(args.sheets, args.rows, args.columns, args.repeat), flush=True)
    print(bench_workbook(args.sheets, args.rows, args.columns, args.repeat, "ods"), flush=True)
    print(bench_pages(args.routes, args.repeat), flush=True)
    if office_tools(os.environ) is None:
        print("documents: skipped, LibreOffice (soffice) or pdftoppm is not installed (make office)", flush=True)
    else:
        for decks in args.decks:
            print(bench_documents(decks, args.repeat), flush=True)


if __name__ == "__main__":
    main()
