"""The web console in a real browser (Debian's chromium, headless, driven by Playwright) over the whole
review loop: the real operator, runner pods on the local kubelet, the GitHub emulator and a scripted model.

An open review queue shows a new AwaitingReview run without a reload, and loses it when its pull request is
merged (the run's page shows a runner step's log meanwhile); a failed run appears under Attention with its
reason; selecting runs and cancelling them in bulk cancels them. "Without a reload" is checked with a marker
set on the page's window: a navigation or reload would drop it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from atomesh.api import conditions as c
from atomesh.commands.console import ConsoleComponent
from tests.e2e.review.conftest import ReviewCluster, ReviewStack, edit_turns
from tests.fixtures.browser import not_reloaded, open_page
from tests.integration.console.conftest import LoopThread

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("review_operator")]

WAIT_MS = 90_000


@pytest.fixture(scope="module")
def console_url(review_cluster: ReviewCluster) -> Iterator[str]:
    loop = LoopThread()
    component = ConsoleComponent(Path(review_cluster.kube_api.kubeconfig), port=0)
    try:
        yield str(loop.run(component.start()))
    finally:
        loop.run(component.stop())
        loop.close()


def test_open_queue_shows_a_new_review_and_drops_it_once_merged(
    review_stack: ReviewStack, browser: Browser, console_url: str
) -> None:
    stack = review_stack
    page = open_page(browser, f"{console_url}/queue?namespace={stack.namespace}")
    row = f'tr[data-run="{stack.namespace}/tidy-1"]'
    assert page.locator(row).count() == 0

    stack.script(edit_turns({f"docs/{stack.namespace}.md": "# Tidy\n"}, "Tidied the docs."))
    stack.agent("tidy", "doc", ["docs/**"])
    stack.start_run("tidy-1", "tidy")
    status = stack.awaiting_review("tidy-1")
    page.wait_for_selector(row, timeout=WAIT_MS)
    assert not_reloaded(page)
    assert page.locator(f"{row} a[href='{status['review']['url']}']").count() == 1

    # The run's page reads a runner step's log from its pod when the step is opened.
    run_page = browser.new_page()
    run_page.goto(f"{console_url}/runs/{stack.namespace}/tidy-1")
    run_page.click("details.log:has-text('publish') summary")
    log = run_page.locator("details.log:has-text('publish') pre")
    run_page.wait_for_function("el => el.textContent !== 'loading…'", arg=log.element_handle(), timeout=WAIT_MS)
    assert log.inner_text().strip(), "the publish step's log is empty"
    assert "NotFound" not in log.inner_text()
    run_page.close()

    assert stack.pull(status["review"]["number"]).merge().merged
    page.wait_for_selector(row, state="detached", timeout=WAIT_MS)
    assert not_reloaded(page)
    assert stack.finished("tidy-1")["phase"] == "Succeeded"


def test_a_failed_run_appears_under_attention_with_its_reason(
    review_stack: ReviewStack, browser: Browser, console_url: str
) -> None:
    stack = review_stack
    page = open_page(browser, f"{console_url}/attention")
    manifest = stack.agent("strict", "doc", ["docs/**"], model_url="http://model.invalid")
    manifest["spec"]["input"] = {"schema": {"type": "object", "required": ["topic"]}}
    stack.apply(manifest)
    stack.start_run("strict-1", "strict")  # no topic: the run fails with InvalidInput
    assert stack.finished("strict-1")["phase"] == "Failed"
    row = page.locator(f'tr[data-name="{stack.namespace}/strict-1"]')
    row.wait_for(timeout=WAIT_MS)
    assert not_reloaded(page)
    assert row.locator(".problem").inner_text() == "Failed"
    assert row.locator(".reason").inner_text() == c.INVALID_INPUT


def test_bulk_cancel_of_runs_selected_in_the_queue(
    review_stack: ReviewStack, browser: Browser, console_url: str
) -> None:
    stack = review_stack
    stack.script(
        edit_turns({f"docs/{stack.namespace}-a.md": "# A\n"}, "Wrote A."),
        edit_turns({f"docs/{stack.namespace}-b.md": "# B\n"}, "Wrote B."),
    )
    stack.agent("writer", "doc", ["docs/**"])
    stack.start_run("writer-a", "writer")
    stack.awaiting_review("writer-a")
    stack.start_run("writer-b", "writer")
    stack.awaiting_review("writer-b")

    page = open_page(browser, f"{console_url}/queue?namespace={stack.namespace}")
    page.on("dialog", lambda dialog: dialog.accept())
    for name in ("writer-a", "writer-b"):
        page.check(f'input[name="run"][value="{stack.namespace}/{name}"]')
    page.click("text=Cancel selected runs")
    page.wait_for_selector(".notice", timeout=WAIT_MS)
    assert page.locator(".notice").inner_text() == "2 of 2 done"
    for name in ("writer-a", "writer-b"):
        assert stack.finished(name)["phase"] == "Cancelled"
        page.wait_for_selector(f'tr[data-run="{stack.namespace}/{name}"]', state="detached", timeout=WAIT_MS)
