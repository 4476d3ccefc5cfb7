"""Step 1, checkout: the workspace repository into the shared volume, and the agent's source at its
pinned commit. Forge read credentials only; the token is sent only to the forge's own git host."""

from __future__ import annotations

import git

from atomesh.api import conditions as c
from atomesh.forge import git as gitops
from atomesh.runner.context import SOURCE_DIR, StepContext
from atomesh.runner.failure import StepFailure


def token_for(ctx: StepContext, url: str) -> str | None:
    """The forge token, only for URLs on the forge's git host (never handed to other hosts)."""
    if ctx.forge_token and ctx.forge_git_url and url.startswith(ctx.forge_git_url.rstrip("/") + "/"):
        return ctx.forge_token
    return None


def _git_error(error: git.GitCommandError) -> str:
    lines = [line.strip() for line in str(error.stderr or "").splitlines() if line.strip()]
    return lines[-1] if lines else f"git exited with status {error.status}"


def run_checkout(ctx: StepContext) -> str:
    """Clone and return the checked-out commit."""
    run = ctx.run
    spec = run.spec
    url = gitops.repo_url(spec.workspace.repo, ctx.forge_git_url)
    # A revision continues the pull request's branch; a first run starts from the base branch.
    branch = run.branch if run.revision_of else spec.workspace.base_branch
    if ctx.workspace.exists() and any(ctx.workspace.iterdir()):
        raise StepFailure(
            c.CHECKOUT_FAILED, f"the workspace {ctx.workspace} is not empty; checkout needs a fresh volume"
        )
    ctx.log(f"cloning {url} at {branch}")
    try:
        repo = gitops.clone(url, ctx.workspace, branch, token_for(ctx, url))
    except git.GitCommandError as error:
        field = "the pull request branch" if run.revision_of else "spec.workspace.baseBranch"
        raise StepFailure(
            c.CHECKOUT_FAILED,
            f"cannot clone {spec.workspace.repo} at {branch!r} ({field}): {_git_error(error)}",
        ) from None
    with repo:
        head = repo.head.commit.hexsha
    if spec.source is not None:
        checkout_source(ctx)
    ctx.log(f"workspace at {branch}@{head[:12]}")
    return head


def checkout_source(ctx: StepContext) -> None:
    source = ctx.run.spec.source
    assert source is not None
    url = gitops.repo_url(source.repo, ctx.forge_git_url)
    commit = ctx.run.agent_commit or source.ref
    dest = ctx.state_dir / SOURCE_DIR
    try:
        gitops.checkout_commit(url, dest, commit, token_for(ctx, url)).close()
    except git.GitCommandError as error:
        raise StepFailure(
            c.SOURCE_NOT_FOUND, f"cannot check out spec.source {source.repo} at {commit}: {_git_error(error)}"
        ) from None
    ctx.log(f"agent source {source.repo}@{commit[:12]}")
