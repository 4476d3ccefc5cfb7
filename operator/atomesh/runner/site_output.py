"""What the `build` step leaves for publish: each side's built site and the result of its build.

Layout under the state directory: `site/<side>/` holds the output folder of the side's build and
`site/<side>.json` its SiteBuildResult, for the sides `base` and `head`. Publish treats all of it as
written by agent code (the build ran agent-written commands): it reads the results through the model,
and copies a site's regular files alone, within MAX_SITE_BYTES, before Chromium opens any of them, so
a symbolic link in a build's output can never show the publisher's own files on the surface.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from atomesh.api.common import SpecModel
from atomesh.review.surface import SiteBuildOutcome
from atomesh.runner.context import StepContext

SiteSide = Literal["base", "head"]
SIDES: tuple[SiteSide, SiteSide] = ("base", "head")
SITE_DIR = "site"
# A built landing page or docs site is a few MiB; far beyond that is a build gone wrong (or a copy of
# node_modules), which would only slow the rendering down and fill the pod's volume.
MAX_SITE_BYTES = 100 * 1024 * 1024
MAX_SITE_FILES = 20_000


class SiteBuildResult(SpecModel):
    """One side's build: whether it produced a site, its exit code (None when stopped at the timeout),
    why it failed when no exit code says, and the tail of its log, credentials masked."""

    side: SiteSide
    passed: bool
    exit_code: int | None = None
    problem: str = Field(default="", max_length=1000)
    output_tail: str = Field(default="", max_length=4000)


class SiteTooLarge(Exception):
    """A built site over MAX_SITE_BYTES or MAX_SITE_FILES, or one that is no folder of its own."""


def site_dir(state_dir: Path) -> Path:
    return state_dir / SITE_DIR


def result_path(state_dir: Path, side: SiteSide) -> Path:
    return site_dir(state_dir) / f"{side}.json"


def write_result(state_dir: Path, result: SiteBuildResult) -> None:
    path = result_path(state_dir, result.side)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.model_dump_json(by_alias=True, indent=2), encoding="utf-8")


def read_result(state_dir: Path, side: SiteSide) -> SiteBuildResult | None:
    """The side's result, or None when the build step left none (or a file that is not one)."""
    path = result_path(state_dir, side)
    if path.is_symlink() or not path.is_file():
        return None
    try:
        result = SiteBuildResult.model_validate_json(path.read_bytes()[:16_384])
    except (OSError, ValidationError):
        return None
    return result if result.side == side else None


def copy_site(source: Path, dest: Path, max_bytes: int = MAX_SITE_BYTES, max_files: int = MAX_SITE_FILES) -> int:
    """Copy the folders and regular files under `source` to `dest`, never following a symbolic link
    (links are left out); returns the bytes copied. Raises SiteTooLarge past either bound."""
    copied, files = 0, 0
    # os.walk lists a linked top folder: a site (or site/) that is a link, to /proc/self say, is refused whole.
    if source.is_symlink() or source.parent.is_symlink() or not source.is_dir():
        raise SiteTooLarge(f"the built site {source.name!r} is not a folder of the build's own")
    dest.mkdir(parents=True, exist_ok=True)
    for folder, subfolders, names in os.walk(source, followlinks=False):
        here = Path(folder)
        target = dest / here.relative_to(source)
        subfolders[:] = [name for name in subfolders if not (here / name).is_symlink()]
        for name in subfolders:
            (target / name).mkdir(exist_ok=True)
        for name in names:
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            files += 1
            copied += path.stat().st_size
            if copied > max_bytes or files > max_files:
                raise SiteTooLarge(
                    f"the built site is over {max_bytes // (1024 * 1024)} MiB or {max_files} files; "
                    "build.outputDir should hold the site alone"
                )
            shutil.copyfile(path, target / name, follow_symlinks=False)
    return copied


def site_builds(ctx: StepContext) -> tuple[SiteBuildOutcome, ...]:
    """The surface's view of the builds, when the Agent declares one; a side without a result failed."""
    pages = ctx.run.spec.review.pages
    if pages is None or pages.build is None:
        return ()
    outcomes = []
    for side in SIDES:
        result = read_result(ctx.state_dir, side)
        if result is None:
            outcomes.append(SiteBuildOutcome(side, False, problem="the build step left no result"))
        else:
            tail = ctx.scrub(result.output_tail)  # written by agent code: masked again, as everything shown
            outcomes.append(SiteBuildOutcome(side, result.passed, result.exit_code, ctx.scrub(result.problem), tail))
    return tuple(outcomes)
