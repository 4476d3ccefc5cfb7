"""Publish's visual evidence: changed images, declared pages and the pages of changed slides and
documents (rendered with LibreOffice, see publish_office), compared before and after.

For each changed image (PNG, JPEG, WebP, GIF; SVG rasterised in Chromium) and each route x
viewport of `spec.review.pages` (base and head exported from git or, with `pages.build`, the sites
the credential-less `build` step built; rendered in Chromium by the publisher, never by the agent),
the before, after and highlighted-difference pictures are stored
as PNG assets, committed to `refs/atomesh/assets/<run>` in the artifact repository and linked from
the pull request by the forge's raw URL of that commit. Nothing here fails the run: what cannot be
rendered (no browser, an undecodable file, too many images) becomes a note on the surface.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import git

from atomesh.api.common import redact_userinfo
from atomesh.api.surfaces import PageRendering
from atomesh.forge import git as gitops
from atomesh.forge.errors import GitError
from atomesh.review.pixels import ImageDecodeError, ImageFacts, compare, facts, to_png
from atomesh.review.surface import ChangedFile, Shot, VisualEvidence
from atomesh.review.visual import is_image
from atomesh.runner.checkout import token_for
from atomesh.runner.context import StepContext
from atomesh.runner.publish_browser import BrowserUnavailable, Renderer
from atomesh.runner.publish_office import render_document_pages
from atomesh.runner.site_output import SIDES, SiteTooLarge, copy_site, read_result, site_dir

ASSETS_REF_PREFIX = "refs/atomesh/assets/"
COMMITTER_NAME = "atomesh"
COMMITTER_EMAIL = "atomesh@users.noreply.github.com"
MAX_IMAGES = 30
MAX_IMAGE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class _Side:
    asset: str
    facts: ImageFacts


@dataclass(frozen=True)
class _Record:
    path: str
    viewport: str = ""
    page: int = 0
    before: _Side | None = None
    after: _Side | None = None
    diff: str | None = None
    share: float | None = None
    note: str = ""


@dataclass
class VisualAssets:
    """PNG assets by path in the assets commit, what they show, and what could not be shown."""

    files: dict[str, bytes] = field(default_factory=dict)
    records: list[_Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def evidence(self, url_for: Callable[[str], str]) -> tuple[VisualEvidence, ...]:
        def shot(side: _Side | None) -> Shot | None:
            if side is None:
                return None
            f = side.facts
            return Shot(
                url=url_for(side.asset), format=f.format, width=f.width, height=f.height, size_bytes=f.size_bytes
            )

        return tuple(
            VisualEvidence(
                path=r.path,
                viewport=r.viewport,
                page=r.page,
                before=shot(r.before),
                after=shot(r.after),
                diff_url=url_for(r.diff) if r.diff else None,
                changed_share=r.share,
                note=r.note,
            )
            for r in self.records
        )


def _as_png(path: str, data: bytes, renderer: Renderer) -> tuple[bytes, ImageFacts]:
    """PNG bytes to show and compare, and the facts of the file as committed."""
    if PurePosixPath(path).suffix.lower() == ".svg":
        png = renderer.rasterise_svg(data)
        drawn = facts(png)
        return png, ImageFacts("SVG", drawn.width, drawn.height, len(data))
    return to_png(data), facts(data)


def _compare_sides(
    assets: VisualAssets,
    key: str,
    record: _Record,
    sides: dict[str, bytes],
    shown: dict[str, ImageFacts] | None = None,
) -> None:
    """Store the present sides' PNGs (and their difference when both exist) under `key`; the table
    shows `shown` facts (the committed file's) when given, else the PNG's."""
    stored: dict[str, _Side] = {}
    for name, png in sides.items():
        assets.files[f"{key}/{name}.png"] = png
        stored[name] = _Side(f"{key}/{name}.png", (shown or {}).get(name) or facts(png))
    before, after = stored.get("before"), stored.get("after")
    if before is not None and after is not None:
        comparison = compare(sides["before"], sides["after"])
        assets.files[f"{key}/diff.png"] = comparison.diff_png
        diff, share, note = f"{key}/diff.png", comparison.changed_share, record.note
    else:
        diff, share = None, None
        note = "; ".join(filter(None, ["added" if after else "deleted", record.note]))
    assets.records.append(_Record(record.path, record.viewport, record.page, before, after, diff, share, note))


def collect_images(
    repo: git.Repo, base: str, head: str, files: tuple[ChangedFile, ...], renderer: Renderer, assets: VisualAssets
) -> None:
    images = [changed for changed in files if is_image(changed.path)]
    if len(images) > MAX_IMAGES:
        skipped = ", ".join(changed.path for changed in images[MAX_IMAGES:])
        assets.notes.append(f"only the first {MAX_IMAGES} images are compared; not shown: {skipped}")
    for changed in images[:MAX_IMAGES]:
        before_path = changed.previous_path or changed.path
        raw = {
            "before": None if changed.status == "added" else gitops.file_at(repo, base, before_path),
            "after": None if changed.status == "deleted" else gitops.file_at(repo, head, changed.path),
        }
        sides: dict[str, bytes] = {}
        shown: dict[str, ImageFacts] = {}
        try:
            for name, data in raw.items():
                if data is None:
                    continue
                if len(data) > MAX_IMAGE_BYTES:
                    raise ImageDecodeError(f"the {name} image is over {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
                sides[name], shown[name] = _as_png(changed.path, data, renderer)
            note = "SVG rasterised in Chromium" if PurePosixPath(changed.path).suffix.lower() == ".svg" else ""
            _compare_sides(assets, f"images/{changed.path}", _Record(changed.path, note=note), sides, shown)
        except (ImageDecodeError, ValueError, BrowserUnavailable) as error:
            assets.notes.append(f"{changed.path}: not compared ({error})")


def _built_sites(state_dir: Path, trees: dict[str, Path]) -> str:
    """Copy the `build` step's sites of base and head into `trees`; the reason they cannot be shown, or ""."""
    results = {side: read_result(state_dir, side) for side in SIDES}
    missing = [side for side, result in results.items() if result is None]
    if missing:
        return f"the build step left no result for the {' and '.join(missing)}"
    failed = [side for side, result in results.items() if result is not None and not result.passed]
    if failed:
        return f"the site build failed for the {' and '.join(failed)} (see Site build)"
    try:
        for name, side in (("before", "base"), ("after", "head")):
            copy_site(site_dir(state_dir) / side, trees[name])
    except (SiteTooLarge, OSError) as error:
        return str(error)
    return ""


def collect_pages(
    repo: git.Repo,
    base: str,
    head: str,
    pages: PageRendering,
    renderer: Renderer,
    assets: VisualAssets,
    state_dir: Path | None = None,
) -> None:
    """Render each route at each viewport, before and after: from the repository's files under root, or,
    when the Agent declares a build, from what the `build` step built (routes under build.outputDir)."""
    root = pages.root.strip("/") or "."
    with tempfile.TemporaryDirectory(prefix="atomesh-pages-") as scratch:
        trees = {"before": Path(scratch, "before"), "after": Path(scratch, "after")}
        if pages.build is not None:
            problem = _built_sites(state_dir, trees) if state_dir is not None else "no state directory"
            if problem:
                assets.notes.append(f"pages not rendered: {problem}")
                return
            root, where = ".", f"the built site ({pages.build.output_dir})"
        else:
            where = root
            try:
                for name, revision in (("before", base), ("after", head)):
                    trees[name].mkdir()
                    gitops.export_tree(repo, revision, root, trees[name])
            except GitError as error:
                assets.notes.append(f"pages not rendered: {error.detail.splitlines()[0] if error.detail else error}")
                return
        for route in pages.routes:
            relative = route.lstrip("/") or "index.html"
            for viewport in pages.viewports:
                sides: dict[str, bytes] = {}
                try:
                    for name, tree in trees.items():
                        file = tree / root / relative
                        if file.is_file() and file.resolve().is_relative_to(tree.resolve()):
                            sides[name] = renderer.screenshot(file, viewport.width, viewport.height)
                    if not sides:
                        assets.notes.append(f"{route}: no such page before or after under {where}")
                        break
                    key = f"pages/{relative}/{viewport.name}"
                    _compare_sides(assets, key, _Record(route, viewport.name), sides)
                except BrowserUnavailable as error:
                    assets.notes.append(f"pages not rendered: {error}")
                    return
                except (ValueError, ImageDecodeError) as error:
                    assets.notes.append(f"{route} at {viewport.name}: not rendered ({error})")


def collect_document_pages(files: tuple[ChangedFile, ...], environ: Mapping[str, str], assets: VisualAssets) -> None:
    """Slides and document pages rendered with LibreOffice, compared page by page."""
    rendered = render_document_pages(files, environ)
    assets.notes += rendered.notes
    for path, sides in rendered.pages.items():
        for number in range(1, max(len(pages) for pages in sides.values()) + 1):
            present = {side: pages[number - 1] for side, pages in sides.items() if number <= len(pages)}
            try:
                _compare_sides(assets, f"documents/{path}/page-{number}", _Record(path, page=number), present)
            except (ImageDecodeError, ValueError) as error:
                assets.notes.append(f"{path} page {number}: not compared ({error})")


def raw_url_base(clone_url: str, commit: str) -> str:
    """`<forge>/<owner>/<repo>/raw/<commit>`: where the forge serves the assets commit's files."""
    web = clone_url.removesuffix("/").removesuffix(".git")
    return f"{web}/raw/{commit}"


def publish_visuals(
    ctx: StepContext, repo: git.Repo, url: str, base: str, head: str, files: tuple[ChangedFile, ...]
) -> tuple[tuple[VisualEvidence, ...], tuple[str, ...]]:
    """Compare, store and link the run's images and pages: (evidence, notes) for the surface."""
    assets = VisualAssets()
    with Renderer(ctx.environ) as renderer:
        collect_images(repo, base, head, files, renderer, assets)
        pages = ctx.run.spec.review.pages
        if pages is not None:
            collect_pages(repo, base, head, pages, renderer, assets, ctx.state_dir)
    collect_document_pages(files, ctx.environ, assets)
    for note in assets.notes:
        ctx.log(f"visual: {note}")
    if not assets.files:
        return (), tuple(assets.notes)
    ref = ASSETS_REF_PREFIX + ctx.run.run
    message = f"atomesh: review images of {ctx.run.namespace}/{ctx.run.run}\n"
    try:
        commit = gitops.push_files_to_ref(
            repo, ref, assets.files, message, COMMITTER_NAME, COMMITTER_EMAIL, token_for(ctx, url)
        )
    except GitError as error:
        return (), (*assets.notes, ctx.scrub(f"review images not stored in {ref}: {error.detail}"))
    ctx.log(f"pushed {len(assets.files)} review image(s) to {ref}@{commit[:12]}")
    base_url = raw_url_base(redact_userinfo(url), commit)
    return assets.evidence(lambda path: f"{base_url}/{quote(path)}"), tuple(assets.notes)
