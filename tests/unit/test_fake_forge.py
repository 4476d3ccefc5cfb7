"""The in-memory forge keeps the protocol's promises that publish and the review loop rely on."""

from __future__ import annotations

import pytest

from atomesh.forge.errors import ForgeAPIError, NotFound
from atomesh.forge.fake import FakeForge
from atomesh.forge.protocol import Forge, PullRequestRequest


def request(branch: str = "atomesh/a/r1", title: str = "t") -> PullRequestRequest:
    return PullRequestRequest(repo="o/r", head_branch=branch, base_branch="main", title=title, body="b")


def test_open_is_idempotent_by_head_branch() -> None:
    forge: Forge = FakeForge()
    first = forge.open_or_update_pull_request(request())
    again = forge.open_or_update_pull_request(request(title="t2"))
    other = forge.open_or_update_pull_request(request(branch="atomesh/a/r2"))
    assert (first.number, again.number, other.number) == (1, 1, 2)
    assert forge.get_pull_request("o/r", 1).url.endswith("/o/r/pull/1")


def test_reviews_permissions_merge_and_close() -> None:
    forge = FakeForge()
    forge.set_head("o/r", "atomesh/a/r1", "a" * 40)
    pull = forge.open_or_update_pull_request(request())
    assert pull.head_sha == "a" * 40
    forge.add_review("o/r", 1, "ada", "please fix", "CHANGES_REQUESTED")
    assert [r.verdict for r in forge.list_reviews("o/r", 1)] == ["CHANGES_REQUESTED"]
    assert forge.permission("o/r", "ada") == "none"
    forge.set_permission("o/r", "ada", "write")
    assert forge.permission("o/r", "ada") == "write"
    sha = forge.merge("o/r", 1)
    merged = forge.get_pull_request("o/r", 1)
    assert (merged.merged, merged.state, merged.merge_commit_sha) == (True, "closed", sha)
    with pytest.raises(ForgeAPIError, match="only open pull requests merge"):
        forge.merge("o/r", 1)
    forge.open_or_update_pull_request(request(branch="b2"))
    forge.close("o/r", 2, by="bob")
    assert forge.get_pull_request("o/r", 2).closed_by == "bob"
    with pytest.raises(NotFound):
        forge.get_pull_request("o/r", 9)
