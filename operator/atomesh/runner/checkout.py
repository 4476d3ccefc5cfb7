"""Step 1, checkout: the workspace repository into the shared volume, and the agent's source at its
pinned commit. Forge read credentials only; the token is sent only to the forge's own git host."""

from __future__ import annotations

from atomesh.api import conditions as c
from atomesh.forge import git as gitops
from atomesh.forge.errors import GitError
from atomesh.runner.context import SOURCE_DIR, StepContext
from atomesh.runner.failure import StepFailure


def token_for(ctx: StepContext, url: str) -> str | None:
    """The forge token, only for URLs on the forge's git host (never handed to other hosts)."""
    if ctx.forge_token and ctx.forge_git_url and url.startswith(ctx.forge_git_url.rstrip("/") + "/"):
        return ctx.forge_token
    return None


def run_checkout(ctx: StepContext) -> str:
    """Clone and return the checked-out commit; then the session a revision resumes and the git contexts."""
    from atomesh.runner.contexts import fetch_git_contexts  # it uses token_for of this module
    from atomesh.runner.session import fetch_session

    run = ctx.run
    spec = run.spec
    url = gitops.repo_url(spec.workspace.repo, ctx.forge_git_url)
    # A revision continues the pull request's branch, as does a run onto someone's pull request; a
    # first run starts from the base branch.
    on_branch = bool(run.revision_of or run.onto_pull_request)
    branch = run.branch if on_branch else spec.workspace.base_branch
    if ctx.workspace.exists() and any(ctx.workspace.iterdir()):
        raise StepFailure(
            c.CHECKOUT_FAILED, f"the workspace {ctx.workspace} is not empty; checkout needs a fresh volume"
        )
    ctx.log(f"cloning {url} at {branch}")
    try:
        repo = gitops.clone(url, ctx.workspace, branch, token_for(ctx, url))
    except GitError as error:
        field = "the pull request branch" if on_branch else "spec.workspace.baseBranch"
        message = f"cannot clone {spec.workspace.repo} at {branch!r} ({field}): {error.detail}"
        raise StepFailure(c.CHECKOUT_FAILED, ctx.scrub(message)) from None
    with repo:
        head = repo.head.commit.hexsha
        fetch_session(ctx, repo, token_for(ctx, url))
    if spec.source is not None:
        checkout_source(ctx)
    fetch_git_contexts(ctx)
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
    except GitError as error:
        message = f"cannot check out spec.source {source.repo} at {commit}: {error.detail}"
        raise StepFailure(c.SOURCE_NOT_FOUND, ctx.scrub(message)) from None
    ctx.log(f"agent source {source.repo}@{commit[:12]}")
