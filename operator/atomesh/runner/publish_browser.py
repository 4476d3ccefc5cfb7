"""Headless Chromium for publish: rasterising SVG and screenshotting pages, offline.

The browser is the system's (Debian's `chromium`, or ATOMESH_CHROMIUM), driven by Playwright; it is
started once, on first use, and only when something needs it. Every request other than a local file
or inline data is aborted, so a page the agent wrote cannot reach the network from the publish step
(which holds the forge token) and renders the same every time.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from playwright.sync_api import Browser, Error, FloatRect, Page, Playwright, Route, sync_playwright

CHROMIUM_ENV = "ATOMESH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
NAVIGATION_TIMEOUT_MS = 15_000
MAX_PAGE_HEIGHT = 4_000  # a full-page screenshot is cut here: a reviewer reads the top, diffs stay bounded


class BrowserUnavailable(RuntimeError):
    """No Chromium to render with; the surface says so instead of failing the run."""


def chromium_path(environ: Mapping[str, str]) -> str | None:
    configured = environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or (DEFAULT_CHROMIUM if Path(DEFAULT_CHROMIUM).exists() else None)


def _offline(route: Route) -> None:
    if route.request.url.startswith(("file:", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


class Renderer:
    """A lazily started browser; use as a context manager so it always stops."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._failure: str | None = None
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Renderer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        if self._scratch is not None:
            self._scratch.cleanup()

    def _scratch_dir(self) -> str:
        """A short, existing temporary folder for the Playwright driver and Chromium: the pod's TMPDIR
        may lie deep in its volume (Chromium's singleton socket path must fit a Unix socket's 108
        bytes) or not exist in this step."""
        current = os.environ.get("TMPDIR", "")
        for parent in ("/tmp", "/dev/shm", current):
            if not parent or not Path(parent).is_dir():
                continue
            try:
                self._scratch = tempfile.TemporaryDirectory(prefix="chr-", dir=parent)
            except OSError:
                continue
            return self._scratch.name
        raise BrowserUnavailable("no writable temporary folder for Chromium (/tmp, /dev/shm or TMPDIR)")

    def _started(self) -> Browser:
        if self._failure is not None:
            raise BrowserUnavailable(self._failure)
        if self._browser is None:
            executable = chromium_path(self._environ)
            if executable is None:
                self._failure = f"no Chromium in the runner image (install chromium or set {CHROMIUM_ENV})"
                raise BrowserUnavailable(self._failure)
            scratch = self._scratch_dir()
            saved = os.environ.get("TMPDIR")
            try:
                os.environ["TMPDIR"] = scratch  # read once, by the driver process start() spawns
                self._playwright = sync_playwright().start()
                # --no-sandbox: runner containers run without the user namespaces chromium's sandbox needs.
                self._browser = self._playwright.chromium.launch(
                    executable_path=executable, headless=True, args=["--no-sandbox"], env={**os.environ}
                )
            except Error as error:
                if self._playwright is not None:
                    self._playwright.stop()
                    self._playwright = None
                self._failure = f"cannot start Chromium: {error.message.splitlines()[0]}"
                raise BrowserUnavailable(self._failure) from None
            finally:
                if saved is None:
                    os.environ.pop("TMPDIR", None)
                else:
                    os.environ["TMPDIR"] = saved
        return self._browser

    def _page(self, width: int, height: int) -> Page:
        page = self._started().new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        page.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        page.route("**/*", _offline)
        return page

    def rasterise_svg(self, svg: bytes) -> bytes:
        """The SVG drawn at its own size (300x150 when it declares none), as PNG bytes."""
        page = self._page(800, 600)
        try:
            source = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
            page.set_content(
                f'<html><body style="margin:0;background:#fff"><img id="svg" src="{source}"></body></html>'
            )
            page.wait_for_function("document.getElementById('svg').complete")
            return page.locator("#svg").screenshot(type="png")
        except Error as error:
            raise ValueError(f"Chromium cannot draw the SVG: {error.message.splitlines()[0]}") from None
        finally:
            page.close()

    def screenshot(self, file: Path, width: int, height: int) -> bytes:
        """The page at `file` in a window of width x height, the whole page down to MAX_PAGE_HEIGHT."""
        page = self._page(width, height)
        try:
            page.goto(file.resolve().as_uri(), wait_until="load")
            full = int(page.evaluate("document.documentElement.scrollHeight"))
            clip = FloatRect(x=0, y=0, width=width, height=max(min(full, MAX_PAGE_HEIGHT), height))
            return page.screenshot(type="png", full_page=True, clip=clip)
        except Error as error:
            raise ValueError(f"Chromium cannot render {file.name}: {error.message.splitlines()[0]}") from None
        finally:
            page.close()
