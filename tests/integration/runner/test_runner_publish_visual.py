"""Publish of a visual artifact against the GitHub emulator: the publisher (not the agent) rasterises the
changed SVG and renders the declared pages in headless Chromium, commits before/after/difference PNGs to
refs/atomesh/assets/<run>, and the pull request body links them where the emulator serves them."""

from __future__ import annotations

import io
import json
import re
import urllib.request
from pathlib import Path

import pytest
from PIL import Image
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

from atomesh.api.runfile import PublishSummary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="{w}" height="40" fill="#0a7"/></svg>'
)
PAGE = "<html><body style='margin:0'><h1 style='font-size:48px'>{title}</h1><img src='logo.svg'></body></html>"
CHANGE = [
    {
        "tools": [
            {"tool": "write_file", "input": {"path": "site/logo.svg", "content": LOGO.format(w=100)}},
            {"tool": "write_file", "input": {"path": "site/index.html", "content": PAGE.format(title="Ship faster")}},
        ]
    },
    {"text": "Shorter headline, wider logo."},
]


def test_publish_compares_images_and_pages_and_links_the_assets(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    gh = github_emulator
    slug = gh.seed_sample_app()
    gh.push_branch(slug, "main", {"site/logo.svg": LOGO.format(w=40), "site/index.html": PAGE.format(title="Ship it")})
    model = anthropic_emulator(CHANGE)
    pod = RunnerPod.on_github(tmp_path / "pod", gh, model.url, "sk-ant-visual")
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"},
        output={"artifact": "visual", "paths": ["site/**"]},
        review={
            "pages": {
                "root": "site",
                "routes": ["index.html"],
                "viewports": [
                    {"name": "desktop", "width": 800, "height": 600},
                    {"name": "mobile", "width": 390, "height": 700},
                ],
            }
        },
    )
    pod.write_run_file(run_file(agent="landing", run="landing-1", spec=spec))
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None

    body = gh.client(gh.bot_token).get_repo(slug).get_pull(summary.review.number).body
    assert "### Images" in body
    assert "### Pages" in body
    assert "| `index.html` | desktop |" in body
    assert "| `index.html` | mobile |" in body
    assert "120x40 SVG" in body
    assert "SVG rasterised in Chromium" in body
    urls = sorted(set(re.findall(r'<img src="([^"]+)"', body)))
    # before, after and difference for the logo and for each of the two page views
    assert len(urls) == 9
    assert all(f"/{slug}/raw/" in url for url in urls)
    for url in urls:
        with urllib.request.urlopen(url) as response:
            assert response.headers["Content-Type"] == "image/png"
            picture = Image.open(io.BytesIO(response.read()))
            assert picture.format == "PNG"
    shares = [float(share) for share in re.findall(r"([0-9.]+) % of pixels changed", body)]
    assert len(shares) == 3
    assert all(share > 0 for share in shares)
    assert "refs/atomesh/assets/landing-1" in {ref.ref for ref in gh.client(gh.bot_token).get_repo(slug).get_git_refs()}
