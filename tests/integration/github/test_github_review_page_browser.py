"""The review page in a real browser: Debian's chromium, headless, driven by Playwright, shows the verification
surface atomesh publishes rendered as on github.com: its tables, and a `<details>` that opens when its summary is
clicked.

The browser is the system's (`make browser` installs Debian's `chromium`), never one Playwright downloads."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from tests.fixtures.github import GitHubEmulatorHandle

from atomesh.review import ChangedFile, CheckOutcome, Provenance, ReviewInput, build_surface

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
PROVENANCE = Provenance(
    agent="price-refresh",
    namespace="default",
    run="price-refresh-1",
    agent_revision="inline@0",
    spec_hash="0" * 64,
    harness="claude-code",
    model="claude-sonnet-4-5",
    trigger="manual",
)
# A data artifact's verification surface, as atomesh publishes it: tables, a <details> per check, a hidden
# provenance comment.
SURFACE = build_surface(
    ReviewInput(
        artifact_type="data",
        purpose="Refresh the prices",
        provenance=PROVENANCE,
        files=(ChangedFile("data/prices.csv", "modified", 1, 1, before="id,price\n1,2\n", after="id,price\n1,3\n"),),
        checks=(CheckOutcome("pytest", True, 0, "42 passed"),),
    )
)


def chromium() -> str:
    """Debian's chromium; a missing browser fails the test with the fix rather than skipping it."""
    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail(f"Debian's chromium is not installed ({CHROMIUM}): run `make browser`", pytrace=False)
    return executable


@pytest.fixture
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as playwright:
        # --no-sandbox: CI and developers' machines run the suite as root, where chromium refuses its sandbox.
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_pull_request_page_renders_table_and_details(
    github_emulator: GitHubEmulatorHandle, browser: Browser, tmp_path: Path
) -> None:
    repo = github_emulator.seed_sample_app()
    github_emulator.push_branch(repo, "atomesh/prices", {"data/prices.csv": "id,price\n1,3\n"})
    gh = github_emulator.client(github_emulator.bot_token).get_repo(repo)
    pull = gh.create_pull(base="main", head="atomesh/prices", title=SURFACE.title, body=SURFACE.body)
    pull.add_to_labels(*SURFACE.labels)
    gh.create_check_run(SURFACE.check_name, pull.head.sha, status="completed", conclusion=SURFACE.check_conclusion)

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    # goto returns after the load event; the page is server-rendered, so every check below reads a settled DOM
    # at once (no retrying assertions).
    page.goto(f"{github_emulator.web_url}/{repo}/pull/{pull.number}")
    description = page.locator("#description .markdown-body")

    table = description.locator("table", has=page.locator("th", has_text="Before"))
    assert table.count() == 1
    assert table.locator("th").all_inner_texts() == ["id", "Column", "Before", "After"]
    assert table.locator("tbody td").all_inner_texts() == ["1", "price", "2", "3"]

    details = description.locator("details", has=page.locator("summary", has_text="pytest: passed"))
    output = details.locator("pre")
    assert details.evaluate("element => element.open") is False
    assert not output.is_visible()
    details.locator("summary").click()
    assert details.evaluate("element => element.open") is True
    assert output.is_visible()
    assert output.inner_text().strip() == "42 passed"

    assert "atomesh:provenance" not in description.inner_html()
    assert page.locator("#checks .check-run td").first.inner_text() == SURFACE.check_name
    assert page.locator("#sidebar .label").all_inner_texts() == list(SURFACE.labels)

    screenshot = tmp_path / "pull-request.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert screenshot.stat().st_size > 20_000


def test_a_missing_chromium_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(f"{__name__}.CHROMIUM", str(tmp_path / "chromium"))
    with pytest.raises(pytest.fail.Exception, match=r"run `make browser`"):
        chromium()
