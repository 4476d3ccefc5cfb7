"""What an Agent declares for the visual and spreadsheet surfaces: pages to render, workbook checks."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from atomesh.api.common import DURATION_PATTERN, SpecModel


class Viewport(SpecModel):
    """A browser window size pages are rendered at."""

    name: str = Field(min_length=1, max_length=32, description="Name shown in the table, such as desktop or mobile.")
    width: int = Field(ge=200, le=3840, description="Width in CSS pixels.")
    height: int = Field(ge=200, le=4320, description="Height in CSS pixels (the screenshot is of this window).")


def _default_viewports() -> list[Viewport]:
    return [Viewport(name="desktop", width=1280, height=800), Viewport(name="mobile", width=390, height=844)]


class SiteBuild(SpecModel):
    """How a site is built before its pages are rendered: a command run in `root`, for the base and for the
    head, in a runner step of its own that holds no credentials."""

    # `run` and a shell string, as in review.checks: builds are usually `npm ci && npm run build`.
    run: str = Field(
        min_length=1, max_length=4096, description="Shell command run in root, such as npm ci && npm run build."
    )
    output_dir: str = Field(
        default="dist",
        min_length=1,
        max_length=512,
        description="Folder under root the command writes the site to; the routes are relative to it.",
    )
    timeout: str = Field(
        default="5m",
        min_length=1,
        pattern=DURATION_PATTERN,
        description="Wall-clock limit of each side's build, such as 5m; a build past it is stopped and shown failed.",
    )


class PageRendering(SpecModel):
    """Pages the publisher renders in headless Chromium, before and after, at each viewport: static files of
    the repository, or the output of a declared `build`."""

    root: str = Field(
        default=".",
        min_length=1,
        max_length=512,
        description="Folder of the repository the routes are relative to, or, with build, the folder it runs in.",
    )
    routes: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        min_length=1,
        max_length=20,
        description="HTML files to render, such as index.html: under root, or under build.outputDir with build.",
    )
    viewports: list[Viewport] = Field(
        default_factory=_default_viewports, min_length=1, max_length=5, description="Window sizes to render at."
    )
    build: SiteBuild | None = Field(
        default=None,
        description="A build the site needs first (base and head are each built, then their output rendered).",
    )


class WorkbookCheck(SpecModel):
    """A total that must still balance: `cell` equals the sum of `sumOf` on `sheet` of the workbook at `path`."""

    name: str = Field(min_length=1, max_length=63, description="Name of the check, shown on the pull request.")
    path: str = Field(
        min_length=1, max_length=512, description="Workbook (.xlsx, .xlsm or .ods) path in the repository."
    )
    sheet: str = Field(min_length=1, max_length=31, description="Sheet name.")
    cell: str = Field(
        min_length=2, max_length=12, pattern=r"^[A-Za-z]{1,3}[0-9]{1,7}$", description="Total cell, e.g. B12."
    )
    sum_of: str = Field(
        min_length=5,
        max_length=25,
        pattern=r"^[A-Za-z]{1,3}[0-9]{1,7}:[A-Za-z]{1,3}[0-9]{1,7}$",
        description="Range whose sum the total must equal, e.g. B2:B11.",
    )
    tolerance: float = Field(default=0.005, ge=0, description="Largest difference still counted as equal.")
