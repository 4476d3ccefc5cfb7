"""What publish checks before pushing to someone's pull request (run file `ontoPullRequest`), over the
fake forge: open, same repository, the branch the run checked out, not a base, not protected."""

from __future__ import annotations

from dataclasses import replace

import pytest

from atomesh.api import conditions as c
from atomesh.api.runfile import RunFile
from atomesh.forge.fake import FakeForge
from atomesh.forge.protocol import PullRequestRequest
from atomesh.runner.failure import StepFailure
from atomesh.runner.pull_request_branch import checked_pull_request

REPO = "acme/app"


def setup(head: str = "feature") -> tuple[FakeForge, RunFile]:
    forge = FakeForge()
    forge.set_head(REPO, head, "a" * 40)
    forge.open_or_update_pull_request(PullRequestRequest(REPO, head, "main", "Theirs", ""))
    run = RunFile.model_validate(
        {
            "namespace": "team",
            "run": "fixer-1",
            "agent": "fixer",
            "spec": {
                "purpose": "Fix.",
                "instructions": "Fix.",
                "output": {"artifact": "code"},
                "workspace": {"repo": REPO},
                "harness": {"model": "m"},
            },
            "branch": head,
            "pullRequest": 1,
            "ontoPullRequest": True,
        }
    )
    return forge, run


def refusal(forge: FakeForge, run: RunFile) -> str:
    with pytest.raises(StepFailure) as failure:
        checked_pull_request(forge, REPO, run)
    assert failure.value.reason == c.PULL_REQUEST_BRANCH_REFUSED
    return failure.value.message.removeprefix(f"will not push to {REPO}#{run.pull_request} (spec.pullRequest): ")


def test_an_open_pull_request_of_the_same_repository_may_be_pushed_to() -> None:
    forge, run = setup()
    assert checked_pull_request(forge, REPO, run).number == 1


def test_a_protected_head_branch_is_refused() -> None:
    forge, run = setup()
    forge.protected.add((REPO, "feature"))
    assert refusal(forge, run) == "'feature' is a protected branch; nothing was pushed"


def test_a_head_from_another_repository_is_refused() -> None:
    forge, run = setup()
    pull = forge.pull(REPO, 1)
    pull.ref = replace(pull.ref, head_repo="someone/app")
    assert refusal(forge, run) == "its head branch lives in someone/app, not acme/app; nothing was pushed"


def test_a_moved_head_and_a_base_branch_are_refused() -> None:
    forge, run = setup()
    pull = forge.pull(REPO, 1)
    pull.ref = replace(pull.ref, head_branch="other")
    assert refusal(forge, run) == "its head branch is now 'other', not 'feature'; nothing was pushed"
    forge, run = setup(head="main")
    assert refusal(forge, run) == "'main' is a base branch; nothing was pushed"


def test_a_missing_pull_request_is_refused() -> None:
    forge, run = setup()
    assert (
        refusal(forge, run.model_copy(update={"pull_request": 9})) == "no pull request acme/app#9; nothing was pushed"
    )
