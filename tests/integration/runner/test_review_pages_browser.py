"""The visual and spreadsheet surfaces as a reviewer sees them: the example agents landing-copy and
pricing-sheet run their three runner steps (scripted model, GitHub emulator), and the emulator's pull
request page, opened in Debian's headless chromium, shows every before/after/difference image from the
assets ref and the workbook tables. With ATOMESH_UPDATE_SCREENSHOTS=1 the pages are saved (downscaled)
as docs/images/review-<agent>.png, which the README shows."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from playwright.sync_api import sync_playwright
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.github.test_github_review_page_browser import chromium
from tests.integration.runner.runner_support import RunnerPod, run_file

from atomesh.api.runfile import PublishSummary
from atomesh.commands.examples import DEMO_INPUTS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[3]
CASES = {"landing-copy": "headline", "pricing-sheet": "starter-price"}
SHOT_WIDTH = 1000  # CSS pixels of the browser window
SAVED_WIDTH = 800  # pixels of the saved screenshot: small files, still legible
SAVED_HEIGHT = 1400


def example_spec(agent: str, slug: str) -> dict[str, Any]:
    (manifest,) = yaml.safe_load_all((REPO_ROOT / "agents" / f"{agent}.yaml").read_text(encoding="utf-8"))
    spec: dict[str, Any] = manifest["spec"]
    spec["harness"] = {"kind": "litellm", "model": "claude-sonnet-4-5", "maxTurns": 10, "allowedTools": []}
    spec["harness"]["allowedTools"] = manifest["spec"]["harness"].get("allowedTools", [])
    spec["workspace"] = {"repo": slug, "baseBranch": "main"}
    spec.pop("triggers", None)
    return spec


@pytest.mark.parametrize("agent", sorted(CASES))
def test_review_page_shows_the_surface_with_its_images(
    agent: str, tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    gh = github_emulator
    slug = gh.seed_sample_app()
    cassette = REPO_ROOT / "agents" / agent / "tests" / CASES[agent] / "cassette.yaml"
    model = anthropic_emulator(cassette)
    pod = RunnerPod.on_github(tmp_path / "pod", gh, model.url, "sk-ant-review-pages")
    pod.write_run_file(
        run_file(agent=agent, run=f"{agent}-1", spec=example_spec(agent, slug), input=DEMO_INPUTS[agent])
    )
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": SHOT_WIDTH, "height": 900})
            page.goto(f"{gh.web_url}/{slug}/pull/{summary.review.number}", wait_until="load")
            images = page.eval_on_selector_all(
                "img[src*='/raw/']", "images => images.map(image => [image.src, image.naturalWidth])"
            )
            text = page.inner_text("body")
            shot = page.screenshot(type="png", full_page=True)
        finally:
            browser.close()

    if agent == "landing-copy":
        # before, after and difference at desktop and mobile, each loaded from the assets ref
        assert len(images) == 6
        assert all(width > 0 for _, width in images), images
        assert "2 of 2 views changed" in text
    else:
        assert images == []
        assert "monthly-total-balances" in text
        assert "B5" in text
        assert "1 of 1 check passed" in text
    if os.environ.get("ATOMESH_UPDATE_SCREENSHOTS") == "1":
        picture = Image.open(io.BytesIO(shot)).convert("RGB")
        picture = picture.resize((SAVED_WIDTH, round(picture.height * SAVED_WIDTH / picture.width)))
        picture = picture.crop((0, 0, SAVED_WIDTH, min(picture.height, SAVED_HEIGHT)))
        out = REPO_ROOT / "docs" / "images" / f"review-{agent}.png"
        picture.quantize(colors=128).save(out, format="PNG", optimize=True)
