"""The site build on the visual surface: what ran, each side's outcome, a failed side's log, open."""

from __future__ import annotations

from review_cases import PROVENANCE

from atomesh.review import ChangedFile, ReviewInput, build_surface
from atomesh.review.surface import SiteBuildOutcome

FILES = (ChangedFile(path="site/src/index.md", status="modified", additions=1, deletions=1),)


def _surface(*builds: SiteBuildOutcome, notes: tuple[str, ...] = ()) -> tuple[str, str]:
    surface = build_surface(
        ReviewInput(
            artifact_type="visual",
            purpose="Sharper landing copy.",
            files=FILES,
            provenance=PROVENANCE,
            site_builds=builds,
            site_build_command="npm ci && npm run build",
            visual_notes=notes,
        )
    )
    return surface.body, surface.check_conclusion


def test_a_failed_head_build_is_a_failure_shown_with_its_log() -> None:
    body, conclusion = _surface(
        SiteBuildOutcome("base", True, 0),
        SiteBuildOutcome("head", False, 2, output_tail="src/index.md:3 unclosed tag\nnpm ERR! code ELIFECYCLE"),
        notes=("pages not rendered: the site build failed for the head (see Site build)",),
    )
    assert "### Site build" in body
    assert "`npm ci && npm run build` run without credentials for the base and the head; 1 of 2 built." in body
    assert "- base: built" in body
    assert "- head: failed (exit 2)" in body
    assert "<details open><summary>head build log</summary>" in body
    assert "npm ERR! code ELIFECYCLE" in body
    assert "base build log" not in body
    assert conclusion == "failure"


def test_a_build_stopped_at_its_timeout_says_so() -> None:
    body, _ = _surface(
        SiteBuildOutcome("base", False, None, problem="stopped at its timeout of 5m"), SiteBuildOutcome("head", True, 0)
    )
    assert "- base: failed: stopped at its timeout of 5m" in body


def test_builds_that_passed_are_one_line_each_and_no_failure() -> None:
    body, conclusion = _surface(SiteBuildOutcome("base", True, 0), SiteBuildOutcome("head", True, 0))
    assert "2 of 2 built." in body
    assert "build log" not in body
    assert conclusion != "failure"
