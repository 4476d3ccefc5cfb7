"""Page images of slides and documents: the publisher renders base and head with Debian's LibreOffice
(soffice -> PDF -> pdftoppm -> PNG) and compares them page by page. Runs wherever LibreOffice is
installed, and always in CI (`make office` installs it there)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from docx import Document
from pptx import Presentation
from tests.fixtures.anthropic import StartEmulator
from tests.fixtures.github import GitHubEmulatorHandle
from tests.integration.runner.runner_support import RunnerPod, agent_spec, run_file

from atomesh.api.runfile import PublishSummary
from atomesh.review import ChangedFile, Provenance, ReviewInput, build_surface
from atomesh.runner.publish_office import NOT_INSTALLED, SOFFICE_ENV, office_tools, render_document_pages
from atomesh.runner.publish_visual import VisualAssets, collect_document_pages

pytestmark = [pytest.mark.integration, pytest.mark.slow]
needs_office = pytest.mark.skipif(
    office_tools(os.environ) is None and os.environ.get("CI") != "true",
    reason="LibreOffice (soffice) and pdftoppm are not installed; `make office` installs them (CI always does)",
)
PROVENANCE = Provenance("deck-editor", "default", "deck-1", "inline@0", "0" * 64, "litellm", "m", "manual")


def deck(slides: list[tuple[str, str]]) -> bytes:
    presentation = Presentation()
    for title, text in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = text
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def letter(text: str) -> bytes:
    document = Document()
    document.add_heading("Your plan", 1)
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@needs_office
def test_changed_slides_are_compared_page_by_page_and_laid_out_with_the_text() -> None:
    before = deck([("Q3 review", "Revenue $1.2M"), ("Next steps", "Hire two engineers")])
    after = deck([("Q3 review", "Revenue $1.3M"), ("Next steps", "Hire two engineers"), ("Appendix", "Sources")])
    files = (
        ChangedFile("decks/q3.pptx", "modified", binary=True, before_data=before, after_data=after),
        ChangedFile("letters/plan.docx", "added", binary=True, after_data=letter("Starter, $12 a month.")),
    )
    assets = VisualAssets()
    collect_document_pages(files, os.environ, assets)
    assert assets.notes == []
    pages = {(r.path, r.page): r for r in assets.records}
    assert sorted(pages) == [("decks/q3.pptx", 1), ("decks/q3.pptx", 2), ("decks/q3.pptx", 3), ("letters/plan.docx", 1)]
    assert (pages[("decks/q3.pptx", 1)].share or 0) > 0  # the revenue figure changed
    assert pages[("decks/q3.pptx", 2)].share == 0
    assert pages[("decks/q3.pptx", 3)].note == "added"
    assert pages[("letters/plan.docx", 1)].after is not None
    assert "documents/decks/q3.pptx/page-1/diff.png" in assets.files
    assert assets.files["documents/decks/q3.pptx/page-1/before.png"].startswith(b"\x89PNG")

    evidence = assets.evidence(lambda path: f"https://forge.example/raw/abc/{path}")
    inp = ReviewInput(artifact_type="doc", purpose="p", provenance=PROVENANCE, files=files, visuals=evidence)
    body = build_surface(inp).body
    assert "#### `decks/q3.pptx` pages\n\n2 of 3 pages changed." in body
    assert "Pages rendered with LibreOffice by the publisher" in body
    assert "### Images" not in body


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
    ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
    '<manifest:file-entry manifest:full-path="/" manifest:version="1.3"'
    ' manifest:media-type="application/vnd.oasis.opendocument.text"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)


def linked_image_document(url: str) -> bytes:
    """An .odt whose only picture is linked (not embedded) from `url`: LibreOffice run without the
    publisher's containment fetches it while converting (an OPTIONS then a GET request)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
        ' xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"'
        ' xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3"><office:body><office:text>'
        '<text:p>Logo:<draw:frame draw:name="logo" text:anchor-type="as-char" svg:width="2cm" svg:height="2cm">'
        f'<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>'
        "</draw:frame></text:p></office:text></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", MANIFEST)
    return out.getvalue()


@needs_office
def test_a_document_linking_a_remote_image_renders_without_reaching_the_network(
    listener: tuple[int, list[str]],
) -> None:
    port, requests = listener
    data = linked_image_document(f"http://127.0.0.1:{port}/logo.png")
    rendered = render_document_pages(
        (ChangedFile("docs/brief.odt", "added", binary=True, after_data=data),), os.environ
    )
    assert rendered.notes == []
    assert len(rendered.pages["docs/brief.odt"]["after"]) == 1
    assert requests == []


def test_without_libreoffice_the_surface_says_what_was_not_rendered() -> None:
    files = (ChangedFile("decks/q3.pptx", "added", binary=True, after_data=b"PK"),)
    rendered = render_document_pages(files, {SOFFICE_ENV: "/nonexistent/soffice"})
    assert (rendered.pages, rendered.notes) == ({}, [NOT_INSTALLED])


@needs_office
def test_publish_renders_a_changed_document_and_links_its_pages(
    tmp_path: Path, github_emulator: GitHubEmulatorHandle, anthropic_emulator: StartEmulator
) -> None:
    gh = github_emulator
    slug = gh.seed_sample_app()
    revised = base64.b64encode(letter("Starter, $12 a month from March.")).decode()
    gh.push_branch(slug, "main", {"letters/plan.docx": letter("Starter, $9 a month."), "drafts/plan.b64": revised})
    # The agent replaces the letter with the revised draft (bytes a text tool could not write).
    model = anthropic_emulator(
        [
            {"tools": [{"tool": "run", "input": {"command": "base64 -d drafts/plan.b64 > letters/plan.docx"}}]},
            {"text": "New Starter price in the plan letter."},
        ]
    )
    pod = RunnerPod.on_github(tmp_path / "pod", gh, model.url, "sk-ant-office")
    spec = agent_spec(
        workspace={"repo": slug, "baseBranch": "main"}, output={"artifact": "doc", "paths": ["letters/**"]}
    )
    pod.write_run_file(run_file(agent="letters", run="letters-1", spec=spec))
    for step in ("checkout", "agent", "publish"):
        result = pod.run(step)
        assert result.returncode == 0, f"{step}: {result.stderr}"
    summary = PublishSummary.model_validate(json.loads(pod.termination("publish")))
    assert summary.review is not None

    body = gh.client(gh.bot_token).get_repo(slug).get_pull(summary.review.number).body
    assert "#### `letters/plan.docx` pages\n\n1 of 1 page changed." in body
    assert "+Starter, $12 a month from March." in body  # the text diff beside the pictures
    urls = sorted(set(re.findall(r'<img src="([^"]+)"', body)))
    assert [url.rsplit("/", 1)[1] for url in urls] == ["after.png", "before.png", "diff.png"]
    for url in urls:
        assert "/documents/letters/plan.docx/page-1/" in url
        with urllib.request.urlopen(url) as response:
            assert response.headers["Content-Type"] == "image/png"
