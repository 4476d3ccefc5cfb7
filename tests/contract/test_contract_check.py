"""The contract check itself: what it accepts from the emulator and what it rejects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from atomesh.devstack.github import traffic
from atomesh.devstack.github.traffic import Exchange
from tests.fixtures.github import GitHubEmulatorHandle

from .check import check
from .descriptions import Descriptions, DescriptionsMissing, descriptions, without_nullable
from .plugin import Collector


def _created_pull(github_emulator: GitHubEmulatorHandle) -> Exchange:
    """The emulator's real response to POST /pulls, as PyGithub received it."""
    seen: list[Exchange] = []
    stop = traffic.subscribe(seen.append)
    try:
        repo = github_emulator.seed_sample_app()
        github_emulator.push_branch(repo, "atomesh/contract", {"README.md": "contract\n"})
        github_emulator.client(github_emulator.bot_token).get_repo(repo).create_pull(
            base="main", head="atomesh/contract", title="Contract", body=""
        )
    finally:
        stop()
    return next(e for e in seen if e.method == "POST" and e.path.endswith("/pulls"))


def _with(exchange: Exchange, body: object = None, drop_header: str | None = None) -> Exchange:
    headers = {k: v for k, v in exchange.headers.items() if k.lower() != (drop_header or "").lower()}
    encoded = exchange.body if body is None else json.dumps(body).encode()
    return Exchange(exchange.kind, exchange.method, exchange.path, exchange.route, exchange.status, headers, encoded)


def test_a_complete_pull_request_passes(github_emulator: GitHubEmulatorHandle) -> None:
    created = _created_pull(github_emulator)
    assert check(descriptions(), created) == []


def test_a_trimmed_pull_request_fails_naming_operation_pointer_and_rule(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    created = _created_pull(github_emulator)
    body = json.loads(created.body)
    del body["author_association"]
    del body["head"]["repo"]["owner"]["login"]
    body["base"]["repo"]["private"] = "no"
    findings = {(f.pointer, f.rule, f.message) for f in check(descriptions(), _with(created, body))}
    subject = {f.subject for f in check(descriptions(), _with(created, body))}
    assert subject == {"POST /repos/{owner}/{repo}/pulls (pulls/create) 201"}
    assert findings == {
        ("", 'required of "Pull Request"', "'author_association' is a required property"),
        ("/head/repo/owner", 'required of "Simple User"', "'login' is a required property"),
        ("/base/repo/private", "type", "'no' is not of type 'boolean'"),
    }


def test_missing_headers_fail(github_emulator: GitHubEmulatorHandle) -> None:
    created = _created_pull(github_emulator)
    for header in ("Location", "X-GitHub-Request-Id", "X-RateLimit-Remaining"):
        (finding,) = check(descriptions(), _with(created, drop_header=header))
        assert (finding.pointer, finding.rule) == (f"header {header}", "present")


def test_an_operation_github_does_not_have_fails() -> None:
    exchange = Exchange("response", "GET", "/repos/demo/app/no-such-thing", "", 200, {}, b"{}")
    (finding,) = check(descriptions(), exchange)
    assert finding.rule == "operation"


def test_an_undeclared_error_status_needs_github_error_body() -> None:
    """GET /user lists no 429; a rate-limited answer is still GitHub's error object."""
    headers = {"X-GitHub-Request-Id": "1", "X-RateLimit-Resource": "core"}
    headers |= {f"X-RateLimit-{name}": "1" for name in ("Limit", "Remaining", "Used", "Reset")}
    good = json.dumps({"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest"})
    assert check(descriptions(), Exchange("response", "GET", "/user", "", 429, headers, good.encode())) == []
    bad = Exchange("response", "GET", "/user", "", 429, headers, b'["API rate limit exceeded"]')
    assert [(f.pointer, f.rule) for f in check(descriptions(), bad)] == [("", 'type of "Basic Error"')]


def test_a_delivery_without_target_headers_or_sender_fails() -> None:
    payload = {"zen": "Keep it logically awesome.", "hook_id": 1}
    headers = {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d", "X-GitHub-Hook-ID": "1", "User-Agent": "x"}
    body = json.dumps(payload).encode()
    findings = check(descriptions(), Exchange("delivery", "POST", "http://receiver", "", 200, headers, body))
    pointers = {f.pointer for f in findings}
    assert {"header X-Github-Hook-Installation-Target-Type", "header X-Github-Hook-Installation-Target-Id"} <= pointers
    assert all(f.subject == "webhook ping" for f in findings)


def test_nullable_becomes_json_schema() -> None:
    assert without_nullable({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert without_nullable({"allOf": [{"$ref": "#/x"}], "nullable": True}) == {
        "anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]
    }


def test_missing_descriptions_say_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(DescriptionsMissing, match="make harnesses"):
        Descriptions(tmp_path / "api.github.com.json", tmp_path / "webhooks.json")


def test_the_legacy_refs_listing_is_held_to_its_successors(github_emulator: GitHubEmulatorHandle) -> None:
    repo = github_emulator.seed_sample_app()
    refs = github_emulator.client(github_emulator.bot_token).get_repo(repo).get_git_refs()
    assert [ref.ref for ref in refs] == ["refs/heads/main"]
    known = descriptions()
    one = known.operation("GET", "/repos/demo/app/git/refs/heads/main", {"ref": "refs/heads/main"})
    many = known.operation("GET", "/repos/demo/app/git/refs", [])
    assert (one and one.operation_id, many and many.operation_id) == ("git/get-ref", "git/list-matching-refs")
    statuses = known.operation("GET", "/repos/demo/app/commits/feature/x/statuses")
    assert statuses is not None
    assert statuses.operation_id == "repos/list-commit-statuses-for-ref"


CHILD = """
import sys, urllib.request
from pathlib import Path
from atomesh.devstack.github import GitHubEmulator
from atomesh.devstack.serving import BackgroundServer

emulator = GitHubEmulator(Path(sys.argv[1]))
token = emulator.add_default_accounts().bot_token
with BackgroundServer(emulator.build_app) as server:
    request = urllib.request.Request(server.url + "/api/v3/user", headers={"Authorization": "token " + token})
    urllib.request.urlopen(request).read()
"""


def test_an_emulator_in_another_process_logs_its_traffic(tmp_path: Path) -> None:
    """What `atomesh dev` serves when a test starts it: logged to the file the plugin reads."""
    log = tmp_path / "traffic.jsonl"
    env = {**os.environ, traffic.LOG_ENV: str(log)}
    subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env, check=True, timeout=60)
    (exchange,), offset = traffic.read_log(str(log), 0)
    assert (exchange.method, exchange.path, exchange.status) == ("GET", "/user", 200)
    assert check(descriptions(), exchange) == []
    assert traffic.read_log(str(log), offset) == ([], offset)


def test_the_plugin_fails_loudly_without_the_descriptions(tmp_path: Path) -> None:
    """No silent skip: traffic with no descriptions to hold it to fails, saying how to install them."""

    def missing() -> Descriptions:
        return Descriptions(tmp_path / "api.github.com.json", tmp_path / "webhooks.json")

    collector = Collector(tmp_path / "traffic.jsonl", load=missing)
    exchange = Exchange("response", "GET", "/user", "", 200, {}, b"{}")
    with pytest.raises(pytest.fail.Exception, match="run `make harnesses`"):
        collector.validate([exchange])
    assert collector.validate([]) == []  # a test without GitHub traffic needs no descriptions


def test_the_plugin_counts_what_it_validated(github_emulator: GitHubEmulatorHandle, tmp_path: Path) -> None:
    created = _created_pull(github_emulator)
    body = json.loads(created.body)
    del body["_links"]
    collector = Collector(tmp_path / "traffic.jsonl")
    (finding,) = collector.validate([created, _with(created, body)])
    assert (finding.pointer, finding.rule) == ("", 'required of "Pull Request"')
    tally = collector.tally
    assert (tally.responses, tally.mismatched, tally.operations) == (2, 1, {"pulls/create"})


def test_repository_events_are_held_to_the_payload_schema_their_type_names(
    github_emulator: GitHubEmulatorHandle,
) -> None:
    seen: list[Exchange] = []
    stop = traffic.subscribe(seen.append)
    try:
        repo = github_emulator.seed_sample_app()
        gh = github_emulator.client(github_emulator.bot_token).get_repo(repo)
        gh.get_issue(gh.create_issue(title="Events").number).create_comment("A comment")
        list(gh.get_events())
    finally:
        stop()
    listed = next(e for e in seen if e.method == "GET" and e.path.endswith("/events"))
    events = json.loads(listed.body)
    assert [event["type"] for event in events] == ["IssueCommentEvent", "IssuesEvent"]
    # A comment's payload also satisfies issues-event: GitHub's oneOf alone would refuse it.
    assert check(descriptions(), listed) == []
    del events[1]["payload"]["issue"]
    events[0]["type"] = "PushEvent"  # an issue comment's payload is no push
    findings = {(f.pointer, f.rule) for f in check(descriptions(), _with(listed, events))}
    assert ("/0/payload", 'required of "PushEvent"') in findings
    assert ("/1/payload", 'required of "IssuesEvent"') in findings
