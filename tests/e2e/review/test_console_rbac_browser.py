"""The console in a real browser shows each person only what their RBAC allows: started with the kubeconfig
of someone bound to `atomesh-view` (or `atomesh-edit`) in team A only, on an API server with authentication
and RBAC where team B holds the same objects, the queue, attention and fleet show team A alone; a direct
URL into team B answers 404 exactly as for a run that does not exist; a viewer's bulk cancel is refused
with the API server's own message, while an editor's is done (and refused, again by the API server, for
a run of team B smuggled into the form).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from atomesh.commands.console import ConsoleComponent
from tests.fixtures.browser import open_page
from tests.integration.console.conftest import LoopThread
from tests.integration.console.tenancy import TEAM_A, TEAM_B, Tenancy, two_teams

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def tenancy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenancy]:
    with two_teams(tmp_path_factory.mktemp("tenancy")) as tenancy:
        yield tenancy


@pytest.fixture(scope="module")
def consoles(tenancy: Tenancy) -> Iterator[dict[str, str]]:
    """The console of the viewer and of the editor, each with their own kubeconfig; their URLs by user."""
    loop = LoopThread()
    components = {user: ConsoleComponent(Path(tenancy.kubeconfig(user)), port=0) for user in ("victor", "alice")}
    try:
        yield {user: str(loop.run(component.start())) for user, component in components.items()}
    finally:
        for component in components.values():
            loop.run(component.stop())
        loop.close()


def text_of(page: Page) -> str:
    return page.locator("main").inner_text()


def test_the_views_show_only_the_namespace_the_viewer_may_read(browser: Browser, consoles: dict[str, str]) -> None:
    url = consoles["victor"]
    page = open_page(browser, f"{url}/queue")
    queued = page.locator("tr[data-run]")
    assert sorted(queued.evaluate_all("rows => rows.map(row => row.dataset.run)")) == [
        f"{TEAM_A}/docs-1",
        f"{TEAM_A}/fixer-3",
    ]
    assert TEAM_B not in page.content()

    page.goto(f"{url}/attention")
    flagged = page.locator("tr[data-name]").evaluate_all("rows => rows.map(row => row.dataset.name)")
    assert f"{TEAM_A}/fixer-4" in flagged
    assert {name.split("/")[0] for name in flagged} == {TEAM_A}
    assert TEAM_B not in page.content()

    page.goto(f"{url}/fleet")
    agents = page.locator("tr[data-agent]").evaluate_all("rows => rows.map(row => row.dataset.agent)")
    assert sorted(agents) == [f"{TEAM_A}/broken", f"{TEAM_A}/docs-writer", f"{TEAM_A}/fixer"]
    assert TEAM_B not in text_of(page)
    page.close()


def test_a_direct_url_into_the_other_namespace_answers_as_for_nothing_there(
    browser: Browser, consoles: dict[str, str]
) -> None:
    url = consoles["victor"]
    page = browser.new_page()
    for path in (f"/runs/{TEAM_B}/fixer-3", f"/runs/{TEAM_B}/fixer-3/logs/publish", f"/agents/{TEAM_B}/fixer",
                 f"/meshes/{TEAM_B}/release"):  # fmt: skip
        response = page.request.get(url + path)
        missing = page.request.get(url + path.replace("fixer", "nobody").replace("release", "nobody"))
        assert (response.status, missing.status) == (404, 404), path
        # The same answer as for nothing at all: nothing tells that team B's object exists.
        assert response.text().replace("fixer", "nobody").replace("release", "nobody") == missing.text()
    assert page.request.get(f"{url}/runs/{TEAM_A}/fixer-3").status == 200
    page.close()


def test_a_viewers_bulk_cancel_is_refused_with_the_api_servers_message(
    browser: Browser, consoles: dict[str, str], tenancy: Tenancy
) -> None:
    page = open_page(browser, f"{consoles['victor']}/queue")
    page.on("dialog", lambda dialog: dialog.accept())
    page.check(f'input[name="run"][value="{TEAM_A}/fixer-3"]')
    page.click("text=Cancel selected runs")
    notice = page.locator(".notice")
    notice.wait_for(timeout=WAIT_MS)
    assert notice.inner_text() == (
        f'0 of 1 done; {TEAM_A}/fixer-3: Forbidden: agentruns.atomesh.io "fixer-3" is forbidden: User "victor" '
        f'cannot patch resource "agentruns" in API group "atomesh.io" in the namespace "{TEAM_A}"'
    )
    assert "Traceback" not in page.content()
    assert not tenancy.run(TEAM_A, "fixer-3")["spec"].get("cancel")
    page.close()


def test_an_editors_bulk_cancel_is_done_in_their_namespace_only(
    browser: Browser, consoles: dict[str, str], tenancy: Tenancy
) -> None:
    page = open_page(browser, f"{consoles['alice']}/queue")
    page.on("dialog", lambda dialog: dialog.accept())
    page.check(f'input[name="run"][value="{TEAM_A}/docs-1"]')
    # A run of team B put into the form by hand is the API server's to refuse, not the console's to do.
    smuggled = page.locator(f'input[name="run"][value="{TEAM_A}/fixer-3"]')
    smuggled.evaluate(f"box => {{ box.value = '{TEAM_B}/fixer-3'; box.checked = true; }}")
    page.click("text=Cancel selected runs")
    notice = page.locator(".notice")
    notice.wait_for(timeout=WAIT_MS)
    assert notice.inner_text() == (
        f'1 of 2 done; {TEAM_B}/fixer-3: Forbidden: agentruns.atomesh.io "fixer-3" is forbidden: User "alice" '
        f'cannot patch resource "agentruns" in API group "atomesh.io" in the namespace "{TEAM_B}"'
    )
    assert tenancy.run(TEAM_A, "docs-1")["spec"]["cancel"] is True
    assert not tenancy.run(TEAM_B, "fixer-3")["spec"].get("cancel")
    page.close()
