"""Sessions go with their run: a run that opened a pull request names its repository there; a Paused run,
which opened none, is found by its workspace."""

from __future__ import annotations

from atomesh.controller.session import collect_session
from atomesh.forge.fake import FakeForge

REF = "refs/atomesh/sessions/pager-1"


def test_a_paused_runs_session_is_collected_from_its_workspace_repository() -> None:
    forge = FakeForge()
    forge.refs[("acme/site", REF)] = "a" * 40
    paused = {"phase": "Paused", "agent": {"name": "pager", "spec": {"workspace": {"repo": "acme/site"}}}}
    collect_session(forge, {"metadata": {"name": "pager-1"}, "status": paused})
    assert ("acme/site", REF) not in forge.refs


def test_a_published_run_names_its_repository_in_its_review_and_a_clone_url_is_not_guessed() -> None:
    forge = FakeForge()
    forge.refs[("acme/site", REF)] = "a" * 40
    forge.refs[("https://git.example/acme/site.git", REF)] = "b" * 40
    cloned = {"agent": {"spec": {"workspace": {"repo": "https://git.example/acme/site.git"}}}}
    collect_session(forge, {"metadata": {"name": "pager-1"}, "status": cloned})
    assert len(forge.refs) == 2  # no repository it can name: nothing deleted
    collect_session(forge, {"metadata": {"name": "pager-1"}, "status": {**cloned, "review": {"repo": "acme/site"}}})
    assert list(forge.refs) == [("https://git.example/acme/site.git", REF)]
