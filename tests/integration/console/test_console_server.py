"""The console's pages and actions over HTTP, against the Kubernetes API emulator."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

import pytest
from tests.integration.console.conftest import RunningConsole
from tests.integration.console.seed import path

pytestmark = pytest.mark.integration


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def post(url: str, fields: list[tuple[str, str]], origin: str | None = None) -> tuple[int, str]:
    """POST a form without following the redirect: the status and where it points (or the error text)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(), headers=headers, method="POST")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location") or exc.read().decode()


def token(console: RunningConsole) -> str:
    found = re.search(r'name="token" value="([^"]+)"', get(console.url + "/queue"))
    assert found
    return found.group(1)


def stats(console: RunningConsole) -> dict[str, int]:
    return dict(json.loads(get(console.url + "/stats")))


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.05)


def test_every_view_renders_from_the_cache_without_a_list(console: RunningConsole) -> None:
    before = stats(console)
    queue = get(console.url + "/queue")
    assert queue.index("fixer-3") < queue.index("docs-1"), "oldest first"
    assert "https://github.com/demo/app/pull/3" in queue
    assert "docs-1" in get(console.url + "/queue?mesh=release")
    assert "fixer-3" not in get(console.url + "/queue?mesh=release")
    attention = get(console.url + "/attention")
    assert "HarnessCrashed" in attention
    assert "claude exited with status 1" in attention
    assert "WorkspaceUnresolvable" in attention
    assert "BudgetExceeded" in attention
    fleet = get(console.url + "/fleet?sort=cost&order=desc")
    assert fleet.index('data-agent="team-a/fixer"') < fleet.index('data-agent="team-a/docs-writer"')
    run = get(console.url + "/runs/team-a/fixer-4")
    assert "HarnessCrashed" in run
    assert "Failed" in run
    mesh = get(console.url + "/meshes/team-a/release")
    assert 'id="mesh-graph"' in mesh
    assert "fixer" in get(console.url + "/agents/team-a/fixer")
    after = stats(console)
    assert after["lists"] == before["lists"], "a page view must not LIST"
    assert after["pageViews"] - before["pageViews"] == 8


def test_actions_need_the_consoles_token_and_same_origin(console: RunningConsole) -> None:
    status, text = post(console.url + "/actions/cancel", [("run", "team-a/fixer-5"), ("token", "forged")])
    assert status == 403
    assert "token" in text
    status, text = post(
        console.url + "/actions/cancel", [("run", "team-a/fixer-5"), ("token", token(console))], "http://evil.example"
    )
    assert status == 403
    assert "cross-origin" in text


def test_bulk_cancel_sets_spec_cancel_under_the_users_identity(console: RunningConsole) -> None:
    fields = [("run", "team-a/fixer-5"), ("run", "team-a/docs-1"), ("run", "team-a/gone"), ("token", token(console))]
    status, location = post(console.url + "/actions/cancel", [*fields, ("back", "/queue")])
    assert status == 303
    notice = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["notice"][0]
    assert notice.startswith("2 of 3 done")
    assert "team-a/gone: NotFound" in notice
    for name in ("fixer-5", "docs-1"):
        assert console.kube.request("GET", path("AgentRun", "team-a", name))["spec"]["cancel"] is True


def test_suspend_and_resume_an_agent(console: RunningConsole) -> None:
    fields = [("kind", "Agent"), ("object", "team-a/fixer"), ("token", token(console))]
    assert post(console.url + "/actions/suspend", [*fields, ("suspend", "true")])[0] == 303
    assert console.kube.request("GET", path("Agent", "team-a", "fixer"))["spec"]["suspend"] is True
    eventually(lambda: "suspended" in get(console.url + "/agents/team-a/fixer"))
    assert post(console.url + "/actions/suspend", [*fields, ("suspend", "false")])[0] == 303
    assert console.kube.request("GET", path("Agent", "team-a", "fixer"))["spec"]["suspend"] is False


def test_start_a_run_checks_its_input_and_creates_it_once(console: RunningConsole) -> None:
    schema = {"type": "object", "required": ["issue"], "properties": {"issue": {"type": "integer"}}}
    console.kube.request(
        "PATCH", path("Agent", "team-a", "docs-writer"), {"spec": {"input": {"schema": schema}}},
        "application/merge-patch+json",
    )  # fmt: skip
    eventually(lambda: "issue" in get(console.url + "/agents/team-a/docs-writer"))
    url = console.url + "/agents/team-a/docs-writer/runs"
    status, location = post(url, [("input", '{"issue": "x"}'), ("request", "r1"), ("token", token(console))])
    assert status == 303
    assert "spec.input.issue" in urllib.parse.unquote_plus(location)
    fields = [("input", '{"issue": 7}'), ("request", "r2"), ("token", token(console))]
    status, location = post(url, fields)
    assert status == 303
    assert location.startswith("/runs/team-a/docs-writer-manual-")
    name = location.split("?")[0].rsplit("/", 1)[1]
    created = console.kube.request("GET", path("AgentRun", "team-a", name))
    assert created["spec"]["input"] == {"issue": 7}
    assert created["spec"]["trigger"]["kind"] == "manual"
    again = post(url, fields)[1]
    assert again.split("?")[0].endswith(name)
    assert "already" in urllib.parse.unquote_plus(again)
