"""Publishing onto someone's pull request (AgentRun spec.pullRequest), as a fix-CI bot does.

Invariants: the pull request is read and checked before anything is pushed; a push never rewrites
the branch (no force, so a commit pushed meanwhile makes the push fail instead of vanishing); the
pull request's title, body, labels and reviewers are its author's and are never changed: the
verification surface is posted as a comment instead.
"""

from __future__ import annotations

from atomesh.api import conditions as c
from atomesh.api.runfile import RunFile
from atomesh.forge.errors import ForgeError, NotFound
from atomesh.forge.protocol import Forge, PullRequestRef
from atomesh.runner.failure import StepFailure


def _refuse(slug: str, number: int, why: str) -> StepFailure:
    return StepFailure(
        c.PULL_REQUEST_BRANCH_REFUSED, f"will not push to {slug}#{number} (spec.pullRequest): {why}; nothing was pushed"
    )


def checked_pull_request(forge: Forge, slug: str, run: RunFile) -> PullRequestRef:
    """The pull request the run pushes to, after checking that it may (StepFailure when not)."""
    number = run.pull_request or 0
    try:
        pull = forge.get_pull_request(slug, number)
        if pull.state != "open":
            raise _refuse(slug, number, "it is closed")
        if pull.head_repo.lower() != slug.lower():
            raise _refuse(slug, number, f"its head branch lives in {pull.head_repo or 'a deleted fork'}, not {slug}")
        if pull.head_branch != run.branch:
            raise _refuse(slug, number, f"its head branch is now {pull.head_branch!r}, not {run.branch!r}")
        if run.branch in (pull.base_branch, run.spec.workspace.base_branch):
            raise _refuse(slug, number, f"{run.branch!r} is a base branch")
        if forge.branch_protected(slug, run.branch):
            raise _refuse(slug, number, f"{run.branch!r} is a protected branch")
    except NotFound as error:
        raise _refuse(slug, number, error.message) from None
    except ForgeError as error:
        raise StepFailure(c.FORGE_ERROR, f"{slug}#{number}: {error.message}") from None
    return pull
