"""The visual, spreadsheet and document surfaces at their edges: size limits, declared checks that
cannot be evaluated, and surfaces chosen per file whatever the artifact type."""

from __future__ import annotations

from review_cases import PROVENANCE, _shot, mixed_case, spreadsheet_case
from workbooks import xlsx

from atomesh.review import ChangedFile, ReviewInput, build_surface
from atomesh.review.surface import SheetCheckSpec, VisualEvidence
from atomesh.review.truncation import GITHUB_TEXT_LIMIT
from atomesh.review.workbook import check_sum, read_workbook

BOOK = read_workbook(xlsx({"Plans": {"B2": 9, "B3": 29, "B4": ("SUM(B2:B3)", 38), "B5": "n/a"}}))


def test_a_huge_visual_artifact_stays_under_githubs_limit_and_says_what_it_left_out() -> None:
    visuals = tuple(
        VisualEvidence(
            path=f"site/page{route}.html",
            viewport=viewport,
            before=_shot(f"pages/{route}/{viewport}/before.png", 1280, 800, 50_000),
            after=_shot(f"pages/{route}/{viewport}/after.png", 1280, 800, 50_000),
            diff_url=f"https://example.com/{route}/{viewport}/diff.png",
            changed_share=0.5,
        )
        for route in range(200)
        for viewport in ("desktop", "tablet", "mobile")
    )
    inp = ReviewInput(artifact_type="visual", purpose="p", provenance=PROVENANCE, files=(), visuals=visuals)
    body = build_surface(inp).body
    assert len(body) < GITHUB_TEXT_LIMIT
    assert "more page views not shown (body size limit)" in body
    assert "<!-- atomesh:provenance" in body


def test_sum_checks_name_what_cannot_be_evaluated() -> None:
    assert check_sum(BOOK, "Plans", "B4", "B2:B3", 0.005).ok
    assert check_sum(BOOK, "Nope", "B4", "B2:B3", 0.005).message == "no sheet named 'Nope'"
    assert "is not a number" in check_sum(BOOK, "Plans", "B5", "B2:B3", 0.005).message
    off = check_sum(BOOK, "Plans", "B4", "B2:B2", 0.005)
    assert (off.ok, off.message) == (False, "Plans!B4 = 38 does not equal the sum of B2:B2 = 9")


def test_an_empty_total_cell_fails_its_check_with_the_sum_it_should_hold() -> None:
    book = read_workbook(xlsx({"S": {"A1": 1, "A2": 2}}))
    assert check_sum(book, "S", "A3", "A1:A2", 0).message == "S!A3 is not a number; the sum of A1:A2 is 3"


def test_a_declared_check_on_a_workbook_the_run_did_not_change_is_not_reported() -> None:
    inp = spreadsheet_case()
    other = SheetCheckSpec("elsewhere", "finance/other.xlsx", "S", "A3", "A1:A2")
    surface = build_surface(ReviewInput(**{**inp.__dict__, "sheet_checks": (other,)}))
    assert "elsewhere" not in surface.body


def test_images_show_on_a_code_artifact_and_the_code_surface_stays() -> None:
    body = build_surface(mixed_case()).body
    assert body.index("### Images") < body.index("### Changes") < body.index("### Checks")
    assert "| 64x64 PNG, 900 B | 64x64 PNG, 910 B | identical |" in body


def test_a_workbook_added_by_the_run_lists_its_sheets_as_added() -> None:
    data = xlsx({"New": {"A1": "x"}})
    inp = ReviewInput(
        artifact_type="spreadsheet",
        purpose="p",
        provenance=PROVENANCE,
        files=(ChangedFile("book.xlsx", "added", binary=True, after_data=data),),
    )
    assert "#### `book.xlsx` / New (added)" in build_surface(inp).body
