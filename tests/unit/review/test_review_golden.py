"""Golden tests: each surface rendered exactly as committed under tests/golden/review/.

Regenerate after an intended change with `ATOMESH_UPDATE_GOLDEN=1 pytest tests/unit/review`,
then read the diff of the golden files as a reviewer would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from review_cases import CASES

from atomesh.review import Surface, build_surface

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "golden" / "review"


def render_golden(surface: Surface) -> str:
    """Every field of the surface in one reviewable text file."""
    return "\n".join(
        [
            f"title: {surface.title}",
            f"labels: {', '.join(surface.labels)}",
            f"check: {surface.check_name} {surface.check_conclusion} | {surface.check_title}",
            "===== check summary =====",
            surface.check_summary,
            "===== body =====",
            surface.body,
            "",
        ]
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_surface_matches_golden_file(case: str) -> None:
    rendered = render_golden(build_surface(CASES[case]()))
    golden = GOLDEN_DIR / f"{case}.md"
    if os.environ.get("ATOMESH_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run with ATOMESH_UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8")
