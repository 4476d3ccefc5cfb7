"""Review inputs shared by the golden and property tests: one realistic case per surface."""

from __future__ import annotations

import io

from docx import Document
from opendocuments import ods
from pptx import Presentation
from workbooks import xlsx

from atomesh.review import ChangedFile, CheckOutcome, Provenance, ReviewInput, RevisionEntry, Validation
from atomesh.review.surface import SheetCheckSpec, Shot, VisualEvidence

PROVENANCE = Provenance(
    agent="fixer",
    namespace="team-a",
    run="fixer-20260101-0900-abcde",
    agent_revision="main@sha1:0123456789abcdef0123456789abcdef01234567",
    spec_hash="5f2b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3",
    harness="claude-code",
    model="claude-sonnet-4-5",
    trigger="mesh:release/triage-to-fix",
    input_tokens=12_345,
    output_tokens=678,
    cost_usd=0.0421,
    turns=7,
)

_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"


def code_case() -> ReviewInput:
    """A bug fix touching source, tests, CI, a lockfile and (wrongly) a key file; one check fails."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Fix bugs reported in issues, with a regression test.",
        summary="Fix off-by-one in pagination\n\nThe last page was dropped when the total was a multiple of the size.",
        run_input={"issue": 42, "repo": "demo/sample-app"},
        files=(
            ChangedFile("src/app/pages.py", "modified", 3, 1, before="a\n", after="b\n"),
            ChangedFile("tests/test_pages.py", "added", 20, 0, after="def test():\n    pass\n"),
            ChangedFile(".github/workflows/ci.yml", "modified", 2, 2, before="on: push\n", after="on: [push]\n"),
            ChangedFile("package-lock.json", "modified", 120, 80),
            ChangedFile("deploy/id_rsa", "added", 3, 0, after=_PRIVATE_KEY),
            ChangedFile("src/app/util.py", "renamed", 0, 0, previous_path="src/app/helpers.py"),
            ChangedFile("docs/logo.png", "added", binary=True),
        ),
        checks=(
            CheckOutcome("unit tests", passed=True, exit_code=0, output_tail="12 passed in 0.31s\n"),
            CheckOutcome("lint", passed=False, exit_code=1, output_tail="src/app/pages.py:3:1: F401 unused import\n"),
        ),
        extra_labels=("bug", "atomesh", "team-a"),
    )


_README_BEFORE = """# Sample app

Intro text.

## Install

Run `pip install sample-app`.

## Usage

Call `run()`.

### Options

None yet.

## Old section

To be removed.
"""

_README_AFTER = """# Sample app

Intro text.

## Install

Run `pip install sample-app` (Python 3.11 or newer).

```bash
# a heading inside code is not a section
pip install sample-app
```

## Usage

Call `run()`.

### Options

None yet.

### Configuration

Set `SAMPLE_MODE=fast`. <!-- hidden note for the merger -->

## FAQ

| Question | Answer |
|---|---|
| Why? | Because. |
"""


def doc_case() -> ReviewInput:
    """A README rewrite (sections added, changed, removed), a new guide, and a plain-text file."""
    return ReviewInput(
        artifact_type="doc",
        provenance=PROVENANCE,
        purpose="Keep the user documentation current.",
        summary="Document the configuration and add an FAQ",
        files=(
            ChangedFile("README.md", "modified", 14, 3, before=_README_BEFORE, after=_README_AFTER),
            ChangedFile("docs/guide.md", "added", 5, 0, after="# Guide\n\nStep one.\n\n## Next\n\nStep two.\n"),
            ChangedFile("NOTICE.txt", "modified", 1, 1, before="Copyright 2025\n", after="Copyright 2026\n"),
            ChangedFile("docs/old.md", "deleted", 0, 4, before="# Old\n\nGone.\n"),
        ),
    )


_DEPLOY_BEFORE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    atomesh.io/owner: team-a
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.0
        - name: sidecar
          image: envoy:1.29
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ports:
    - port: 80
"""

_DEPLOY_AFTER = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    atomesh.io/owner: team-b
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: web
          image: shop/web:1.1
          resources: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: shop
data:
  MODE: fast
"""


def config_case() -> ReviewInput:
    """A manifest change across documents, a JSON settings change, a broken YAML file and validations."""
    return ReviewInput(
        artifact_type="config",
        provenance=PROVENANCE,
        purpose="Tune deployments for load.",
        files=(
            ChangedFile("deploy/web.yaml", "modified", 10, 12, before=_DEPLOY_BEFORE, after=_DEPLOY_AFTER),
            ChangedFile(
                "settings.json",
                "modified",
                3,
                2,
                before='{"timeout": 30, "features": {"beta": false}, "hosts": ["a", "b"]}',
                after='{"timeout": 45, "features": {"beta": true, "gamma": null}, "hosts": ["a"]}',
            ),
            ChangedFile("values.yaml", "modified", 1, 1, before="replicas: 2\n", after="replicas: [3\n"),
            ChangedFile("README.md", "modified", 1, 0, before="x\n", after="y\n"),
        ),
        validations=(
            Validation("deploy/web.yaml", "kubernetes-validate 1.37", ok=True),
            Validation(
                "deploy/web.yaml",
                "json-schema",
                ok=False,
                messages=("spec.replicas: 3 is greater than the maximum of 2",),
            ),
        ),
    )


_CSV_BEFORE = "sku,name,price,stock\nA1,apple,1.00,10\nB2,banana,0.50,20\nC3,cherry,3.00,5\n"
_CSV_AFTER = "sku,name,price,stock,origin\nA1,apple,1.10,10,ES\nB2,banana,0.50,20,EC\nD4,date,2.00,7,IL\n"


def data_case() -> ReviewInput:
    """A keyed CSV change (rows added/removed/changed, a column added), a TSV with an id column."""
    return ReviewInput(
        artifact_type="data",
        provenance=PROVENANCE,
        purpose="Keep the product catalogue current.",
        summary="Refresh prices and add origins",
        files=(
            ChangedFile("data/products.csv", "modified", 4, 3, before=_CSV_BEFORE, after=_CSV_AFTER),
            ChangedFile(
                "data/users.tsv",
                "modified",
                2,
                1,
                before="name\tuser_id\nann\t1\nbob\t2\n",
                after="name\tuser_id\nann\t1\nbobby\t2\ncy\t3\n",
            ),
        ),
        checks=(CheckOutcome("schema", passed=True, output_tail="2 tables valid\n"),),
    )


def revision_case() -> ReviewInput:
    """A second revision: the history lists the feedback each revision addressed."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Fix bugs reported in issues, with a regression test.",
        summary="Fix off-by-one in pagination",
        files=(ChangedFile("src/app/pages.py", "modified", 4, 1, before="a\n", after="c\n"),),
        revision=2,
        history=(
            RevisionEntry(revision=1, run="fixer-20260101-0900-abcde-r1", feedback_summary="Add a test | please"),
            RevisionEntry(revision=0, run="fixer-20260101-0900-abcde", feedback_summary="Handle empty pages too"),
        ),
    )


def huge_code_case(files: int = 5_000, output: int = 200_000) -> ReviewInput:
    """Far more than fits in a body: thousands of files and enormous check output."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Reformat the whole repository. " * 40,
        summary="Reformat everything\n" + "details " * 2_000,
        files=tuple(ChangedFile(f"src/module_{index:05d}.py", "modified", 3, 3) for index in range(files)),
        checks=tuple(
            CheckOutcome(f"check-{index}", passed=index % 2 == 0, exit_code=index % 2, output_tail="x" * output)
            for index in range(30)
        ),
        run_input={"paths": [f"src/module_{index:05d}.py" for index in range(2_000)]},
    )


def links_case() -> ReviewInput:
    """A doc artifact with a symbolic link within output.paths and executable bits set and cleared."""
    return ReviewInput(
        artifact_type="doc",
        provenance=PROVENANCE,
        purpose="Keep the handbook's versions tidy.",
        summary="Point latest at v2 and make the build script runnable.",
        files=(
            ChangedFile("docs/v2.md", "added", 3, 0, after="# v2\n\nNew.\n", mode="100644"),
            ChangedFile(
                "docs/latest.md",
                "modified",
                1,
                1,
                before="# v1\n",
                mode="120000",
                previous_mode="100644",
                link_target="v2.md",
            ),
            ChangedFile("docs/current", "added", 1, 0, mode="120000", link_target="../docs/v2.md"),
            ChangedFile("docs/build.sh", "modified", 0, 0, mode="100755", previous_mode="100644"),
            ChangedFile("docs/new.sh", "added", 2, 0, after="#!/bin/sh\necho hi\n", mode="100755"),
            ChangedFile("docs/old.sh", "modified", 0, 0, mode="100644", previous_mode="100755"),
        ),
    )


ASSETS = "http://127.0.0.1:8081/demo/sample-app/raw/refs/atomesh/assets/editor-20260101-0900-abcde"


def _shot(name: str, width: int, height: int, size: int, fmt: str = "PNG") -> Shot:
    return Shot(url=f"{ASSETS}/{name}", format=fmt, width=width, height=height, size_bytes=size)


def visual_case() -> ReviewInput:
    """A landing-page edit: a changed hero image, a new logo, an SVG, two routes at two viewports."""
    pages = tuple(
        VisualEvidence(
            path=route,
            viewport=viewport,
            before=_shot(f"pages/{route}/{viewport}/before.png", width, 800, 40_000),
            after=_shot(f"pages/{route}/{viewport}/after.png", width, 800, 41_000),
            diff_url=f"{ASSETS}/pages/{route}/{viewport}/diff.png",
            changed_share=share,
        )
        for route, share in (("index.html", 0.0731), ("pricing.html", 0.0))
        for viewport, width in (("desktop", 1280), ("mobile", 390))
    )
    return ReviewInput(
        artifact_type="visual",
        provenance=PROVENANCE,
        purpose="Tighten the landing page copy.",
        summary="Shorter hero headline; new logo.",
        files=(
            ChangedFile("site/index.html", "modified", 2, 2, before="<h1>Old</h1>\n", after="<h1>New</h1>\n"),
            ChangedFile("site/hero.png", "modified", binary=True),
            ChangedFile("site/logo.svg", "added", 4, 0, after="<svg/>"),
        ),
        visuals=(
            VisualEvidence(
                path="site/hero.png",
                before=_shot("images/site/hero.png/before.png", 640, 320, 12_288),
                after=_shot("images/site/hero.png/after.png", 640, 360, 13_900),
                diff_url=f"{ASSETS}/images/site/hero.png/diff.png",
                changed_share=0.1425,
            ),
            VisualEvidence(
                path="site/logo.svg",
                after=_shot("images/site/logo.svg/after.png", 120, 40, 2_100, "SVG"),
                note="added; SVG rasterised in Chromium",
            ),
            *pages,
        ),
        visual_notes=("site/broken.webp: cannot decode the after image (cannot identify image file)",),
    )


def spreadsheet_case() -> ReviewInput:
    """A pricing workbook update: prices change, a column is added, one declared total no longer balances."""
    before = xlsx(
        {
            "Prices": {
                "A1": "Plan", "B1": "Monthly USD",
                "A2": "Starter", "B2": 9, "A3": "Team", "B3": 29, "A4": "Business", "B4": 99,
                "A5": "Total", "B5": ("SUM(B2:B4)", 137),
            },
            "Discounts": {"A1": "Annual", "B1": 0.15},
        }
    )  # fmt: skip
    after = xlsx(
        {
            "Prices": {
                "A1": "Plan", "B1": "Monthly USD", "C1": "Monthly EUR",
                "A2": "Starter", "B2": 12, "C2": 11, "A3": "Team", "B3": 29, "C3": 27,
                "A4": "Business", "B4": 109, "C4": 99,
                "A5": "Total", "B5": ("SUM(B2:B4)", 150), "C5": 130,
            },
            "Discounts": {"A1": "Annual", "B1": 0.15},
            "Changelog": {"A1": "Starter +3, Business +10"},
        }
    )  # fmt: skip
    return ReviewInput(
        artifact_type="spreadsheet",
        provenance=PROVENANCE,
        purpose="Update the pricing sheet from the pricing committee's decisions.",
        summary="Starter to $12, Business to $109, EUR column.",
        files=(
            ChangedFile("pricing/plans.xlsx", "modified", binary=True, before_data=before, after_data=after),
            ChangedFile("pricing/legacy.xls", "modified", binary=True),
            ChangedFile("pricing/broken.xlsx", "added", binary=True, after_data=b"not a zip"),
        ),
        sheet_checks=(
            SheetCheckSpec("USD total balances", "pricing/plans.xlsx", "Prices", "B5", "B2:B4"),
            SheetCheckSpec("EUR total balances", "pricing/plans.xlsx", "Prices", "C5", "C2:C4"),
        ),
    )


def opendocument_case() -> ReviewInput:
    """The same pricing update in an OpenDocument spreadsheet: formulas as Calc shows them, cached values."""
    before = ods(
        {
            "Prices": {
                "A1": "Plan", "B1": "Monthly USD", "A2": "Starter", "B2": 9, "A3": "Team", "B3": 29,
                "A4": "Total", "B4": ("SUM([.B2:.B3])", 38), "D4": True,
            },
        }
    )  # fmt: skip
    after = ods(
        {
            "Prices": {
                "A1": "Plan", "B1": "Monthly USD", "A2": "Starter", "B2": 12, "A3": "Team", "B3": 29,
                "A4": "Total", "B4": ("SUM([.B2:.B3])", 41), "C4": ("[.B4]*0.92", 37.72), "D4": False,
            },
            "Notes": {"A1": "Starter +3"},
        }
    )  # fmt: skip
    return ReviewInput(
        artifact_type="spreadsheet",
        provenance=PROVENANCE,
        purpose="Update the pricing sheet from the pricing committee's decisions.",
        summary="Starter to $12.",
        files=(ChangedFile("pricing/plans.ods", "modified", binary=True, before_data=before, after_data=after),),
        sheet_checks=(SheetCheckSpec("USD total balances", "pricing/plans.ods", "Prices", "B4", "B2:B3"),),
    )


def mixed_case() -> ReviewInput:
    """A code change that also swaps an image: both surfaces on one pull request."""
    return ReviewInput(
        artifact_type="code",
        provenance=PROVENANCE,
        purpose="Fix bugs reported in issues, with a regression test.",
        files=(
            ChangedFile("src/app/pages.py", "modified", 3, 1, before="a\n", after="b\n"),
            ChangedFile("docs/logo.png", "modified", binary=True),
        ),
        visuals=(
            VisualEvidence(
                path="docs/logo.png",
                before=_shot("images/docs/logo.png/before.png", 64, 64, 900),
                after=_shot("images/docs/logo.png/after.png", 64, 64, 910),
                diff_url=f"{ASSETS}/images/docs/logo.png/diff.png",
                changed_share=0.0,
            ),
        ),
        checks=(CheckOutcome("unit tests", passed=True, exit_code=0, output_tail="3 passed\n"),),
    )


def _deck(slides: list[tuple[str, list[str]]]) -> bytes:
    deck = Presentation()
    for title, bullets in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text_frame.text = "\n".join(bullets)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def _document(sections: list[tuple[str, list[str]]]) -> bytes:
    document = Document()
    for heading, paragraphs in sections:
        document.add_heading(heading, level=1)
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def documents_case() -> ReviewInput:
    """A quarterly deck and a customer letter updated: changed, added and removed slides and sections."""
    deck_before = _deck(
        [("Q3 review", ["Revenue $1.2M", "Churn 3%"]), ("Next steps", ["Hire two engineers"]), ("Appendix", ["-"])]
    )
    deck_after = _deck([("Q3 review", ["Revenue $1.3M", "Churn 3%"]), ("Next steps", ["Hire two engineers"])])
    letter_before = _document([("Welcome", ["Thank you for choosing us."]), ("Your plan", ["Starter, $9 a month."])])
    letter_after = _document(
        [
            ("Welcome", ["Thank you for choosing us."]),
            ("Your plan", ["Starter, $12 a month from March."]),
            ("Support", ["Write to support@example.com."]),
        ]
    )
    return ReviewInput(
        artifact_type="doc",
        provenance=PROVENANCE,
        purpose="Keep the customer-facing decks and letters current.",
        files=(
            ChangedFile("decks/q3.pptx", "modified", binary=True, before_data=deck_before, after_data=deck_after),
            ChangedFile(
                "letters/welcome.docx", "modified", binary=True, before_data=letter_before, after_data=letter_after
            ),
            ChangedFile("decks/broken.pptx", "added", binary=True, after_data=b"PK not really"),
            ChangedFile("decks/roadmap.odp", "modified", binary=True),
        ),
        visuals=(
            *(
                VisualEvidence(
                    path="decks/q3.pptx",
                    page=number,
                    before=_shot(f"documents/decks/q3.pptx/page-{number}/before.png", 900, 675, 19_113),
                    after=_shot(f"documents/decks/q3.pptx/page-{number}/after.png", 900, 675, 19_129),
                    diff_url=f"{ASSETS}/documents/decks/q3.pptx/page-{number}/diff.png",
                    changed_share=share,
                )
                for number, share in ((1, 0.0043), (2, 0.0))
            ),
            VisualEvidence(
                path="decks/q3.pptx",
                page=3,
                before=_shot("documents/decks/q3.pptx/page-3/before.png", 900, 675, 6_645),
                note="deleted",
            ),
            VisualEvidence(
                path="decks/roadmap.odp",
                page=1,
                before=_shot("documents/decks/roadmap.odp/page-1/before.png", 900, 675, 7_001),
                after=_shot("documents/decks/roadmap.odp/page-1/after.png", 900, 675, 7_101),
                diff_url=f"{ASSETS}/documents/decks/roadmap.odp/page-1/diff.png",
                changed_share=0.021,
            ),
        ),
    )


CASES = {
    "links_and_modes": links_case,
    "code": code_case,
    "doc": doc_case,
    "config": config_case,
    "data": data_case,
    "revision_history": revision_case,
    "truncation": lambda: huge_code_case(files=3_000, output=5_000),
    "visual": visual_case,
    "spreadsheet": spreadsheet_case,
    "spreadsheet_opendocument": opendocument_case,
    "mixed": mixed_case,
    "documents": documents_case,
}
