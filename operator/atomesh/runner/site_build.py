"""Step `build` (only for an Agent declaring spec.review.pages.build): the site built for the base and
for the head, so that publish renders built pages.

It runs after `agent` and before `publish` and holds no credential: the pod gives it no forge token,
model key, proxy volume or service account token, and the command's environment drops every
ATOMESH_ variable besides. The head is a copy of the agent's working tree (without .git, so the build's
files never reach the artifact); the base is the commit publish compares with, checked out into a
separate git worktree from the local repository (no network), removed afterwards. Each side's
`build.outputDir` is copied to state/site/<side>/ (regular files only, bounded by site_output) and
its result to state/site/<side>.json. A failing build never fails the run: the surface shows it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import git

from atomesh.api.common import parse_duration
from atomesh.api.surfaces import SiteBuild
from atomesh.forge import git as gitops
from atomesh.harness.process import run_shell
from atomesh.runner.checks import tail
from atomesh.runner.context import StepContext
from atomesh.runner.pause import read_pause
from atomesh.runner.site_output import (
    SIDES,
    SiteBuildResult,
    SiteSide,
    SiteTooLarge,
    copy_site,
    site_dir,
    write_result,
)

SCRATCH_DIR = "site-src"
# Builds that print progress bars read CI to stay quiet and non-interactive (npm, Vite, Next.js, Astro).
BUILD_ENV = {"CI": "true"}


def build_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The step's environment for the build command, without any ATOMESH_ variable: whatever a pod or
    a local runner put there, no credential or runner setting reaches agent-written build scripts."""
    return {**{key: value for key, value in environ.items() if not key.startswith("ATOMESH_")}, **BUILD_ENV}


def base_commit(repo: git.Repo, base_branch: str, revision_of: str | None) -> str:
    """The commit publish compares with: HEAD for a first run; for a revision, where its branch left
    the base branch (as publish computes it)."""
    head = repo.head.commit.hexsha
    if revision_of:
        return gitops.merge_base(repo, f"origin/{base_branch}", head) or head
    return head


def _ignore_git(root: Path) -> Callable[[str, list[str]], set[str]]:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {".git"} if Path(folder) == root else set()

    return ignore


def _prepare(ctx: StepContext, side: SiteSide, tree: Path) -> None:
    """The side's sources at `tree`. Raises git.GitCommandError or OSError."""
    if side == "head":
        shutil.copytree(ctx.workspace, tree, symlinks=True, ignore=_ignore_git(ctx.workspace))
        return
    with git.Repo(ctx.workspace) as repo:
        commit = base_commit(repo, ctx.run.spec.workspace.base_branch, ctx.run.revision_of)
        # Hooks off: checking out a worktree would run the repository's post-checkout hook.
        repo.git.execute(
            ["git", "-c", f"core.hooksPath={os.devnull}", "worktree", "add", "--detach", str(tree), commit]
        )


def _release(ctx: StepContext, side: SiteSide, tree: Path) -> None:
    if side == "base":
        try:
            with git.Repo(ctx.workspace) as repo:
                repo.git.worktree("remove", "--force", str(tree))
        except (git.GitCommandError, git.InvalidGitRepositoryError, git.NoSuchPathError):
            pass  # never added; removing the folder is all there is to do
    shutil.rmtree(tree, ignore_errors=True)


def build_side(ctx: StepContext, build: SiteBuild, root: str, side: SiteSide, tree: Path) -> SiteBuildResult:
    """Run the build in the side's `root` and copy its output folder; the result says what happened."""
    folder = (tree / root).resolve()
    if not folder.is_dir() or not folder.is_relative_to(tree.resolve()):
        return SiteBuildResult(side=side, passed=False, problem=f"spec.review.pages.root {root!r} is no folder")
    timeout = parse_duration(build.timeout)
    ctx.log(f"build: building the {side} in {root}")
    code, output = run_shell(build.run, folder, build_environment(ctx.environ), float(timeout))
    # The whole log goes to the container's (`kubectl logs -c build`), its tail to the surface.
    print(ctx.scrub(output), end="" if output.endswith("\n") else "\n", file=sys.stderr, flush=True)
    log = tail(ctx.scrub(output))
    if code is None:
        return SiteBuildResult(
            side=side, passed=False, problem=f"stopped at its timeout of {build.timeout}", output_tail=log
        )
    if code != 0:
        return SiteBuildResult(side=side, passed=False, exit_code=code, output_tail=log)
    output_dir = (folder / build.output_dir).resolve()
    if not output_dir.is_dir() or not output_dir.is_relative_to(tree.resolve()):
        problem = f"the build wrote no folder {build.output_dir!r} (build.outputDir) under {root!r}"
        return SiteBuildResult(side=side, passed=False, exit_code=code, problem=problem, output_tail=log)
    try:
        size = copy_site(output_dir, site_dir(ctx.state_dir) / side)
    except SiteTooLarge as error:
        shutil.rmtree(site_dir(ctx.state_dir) / side, ignore_errors=True)
        return SiteBuildResult(side=side, passed=False, exit_code=code, problem=str(error), output_tail=log)
    ctx.log(f"build: the {side} site is built ({size} bytes in {build.output_dir})")
    return SiteBuildResult(side=side, passed=True, exit_code=code, output_tail=log)


def run_build(ctx: StepContext) -> tuple[SiteBuildResult, ...]:
    """Build both sides; each result is also written for publish. Never fails for a failing build."""
    pages = ctx.run.spec.review.pages
    if pages is None or pages.build is None:
        ctx.log("build: the Agent declares no spec.review.pages.build; nothing to build")
        return ()
    if read_pause(ctx.state_dir) is not None:  # publish keeps the paused work and publishes nothing
        ctx.log("build: the agent paused at its limit; nothing to build")
        return ()
    site = site_dir(ctx.state_dir)
    shutil.rmtree(site, ignore_errors=True)  # a retried step starts over
    scratch = ctx.state_dir / SCRATCH_DIR
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    root = pages.root.strip("/") or "."
    results: list[SiteBuildResult] = []
    try:
        for side in SIDES:
            tree = scratch / side
            try:
                _prepare(ctx, side, tree)
            except (git.GitCommandError, OSError) as error:
                detail = error.stderr.strip() if isinstance(error, git.GitCommandError) else str(error)
                result = SiteBuildResult(
                    side=side, passed=False, problem=tail(ctx.scrub(f"cannot prepare the {side}: {detail}"), 900)
                )
            else:
                result = build_side(ctx, pages.build, root, side, tree)
            finally:
                _release(ctx, side, tree)
            if not result.passed:
                ctx.log(f"build: the {side} build failed: {result.problem or f'exit {result.exit_code}'}")
            write_result(ctx.state_dir, result)
            results.append(result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tuple(results)
