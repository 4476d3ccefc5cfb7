"""Rendering time of the spreadsheet and visual surfaces: a 50-sheet workbook (read twice with
openpyxl, compared cell by cell, laid out), and 10 routes x 3 viewports rendered before and after in
headless Chromium, compared pixel by pixel and laid out. Run by hand from the repository root, after
`make install browser`:

python -m bench.review_visual [--sheets 50 --rows 200 --columns 10] [--routes 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

import git
from openpyxl import Workbook

from atomesh.api.surfaces import PageRendering, Viewport
from atomesh.review import ChangedFile, Provenance, ReviewInput, build_surface
from atomesh.review.surface import SheetCheckSpec
from atomesh.runner.publish_browser import Renderer
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


def bench_workbook(sheets: int, rows: int, columns: int, repeat: int) -> str:
    before, after = workbook(sheets, rows, columns, 0), workbook(sheets, rows, columns, 97)
    checks = tuple(
        SheetCheckSpec(f"total-{index}", "book.xlsx", f"Sheet {index + 1}", f"A{rows + 1}", f"A1:A{rows}")
        for index in range(sheets)
    )
    inp = ReviewInput(
        artifact_type="spreadsheet",
        purpose="bench",
        provenance=PROVENANCE,
        files=(ChangedFile("book.xlsx", "modified", binary=True, before_data=before, after_data=after),),
        sheet_checks=checks,
    )
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        surface = build_surface(inp)
        times.append(time.perf_counter() - start)
    size = f"{len(before) / 1024:.0f} KiB"
    return (
        f"workbook {sheets} sheets x {rows} rows x {columns} columns ({size}): median {statistics.median(times):.2f}s,"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sheets", type=int, default=50)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--routes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs", flush=True)
    print(bench_workbook(args.sheets, args.rows, args.columns, args.repeat), flush=True)
    print(bench_pages(args.routes, args.repeat), flush=True)


if __name__ == "__main__":
    main()
