"""A case's starting repository, pushed over HTTP into the forge the run checks out from.

A folder becomes one commit of its files (fixed author and date, so the same folder always gives
the same commit); a git bundle keeps its history and gives its base branch as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import git

from atomesh.agenttest.case import CaseError

SEED_ACTOR = git.Actor("atomesh test", "atomesh-test@users.noreply.github.com")
SEED_DATE = "1767225600 +0000"  # 2026-01-01T00:00:00Z, in git's raw format
BUNDLE_SUFFIX = ".bundle"


def _from_folder(source: Path, work: Path, branch: str) -> git.Repo:
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    repo = git.Repo.init(work, initial_branch=branch)
    repo.git.add(A=True)
    repo.index.commit(
        "Starting state of the test case",
        author=SEED_ACTOR,
        committer=SEED_ACTOR,
        author_date=SEED_DATE,
        commit_date=SEED_DATE,
    )
    return repo


def _from_bundle(source: Path, work: Path, branch: str) -> git.Repo:
    try:
        repo = git.Repo.clone_from(str(source), work, no_checkout=True)
    except git.GitCommandError as error:
        raise CaseError(f"repository: {source} is not a readable git bundle: {error.stderr.strip()}") from None
    if branch not in {ref.remote_head for ref in repo.remote().refs}:
        repo.close()
        raise CaseError(
            f"repository: the bundle {source} has no branch {branch!r} (the agent's spec.workspace.baseBranch); "
            f"create it with `git bundle create {source.name} {branch}`"
        )
    repo.git.branch("-f", branch, f"origin/{branch}")
    return repo


def push_starting_state(source: Path, work: Path, branch: str, push_url: str) -> str:
    """Push `source` (a folder or a .bundle) as `branch` to `push_url`; returns the commit pushed."""
    if source.is_dir():
        repo = _from_folder(source, work, branch)
    elif source.is_file() and source.name.endswith(BUNDLE_SUFFIX):
        repo = _from_bundle(source, work, branch)
    else:
        raise CaseError(
            f"repository: {source} is neither a folder nor a git bundle ({BUNDLE_SUFFIX}); "
            "point `repository:` at the starting state, or put it in repo/ next to case.yaml"
        )
    with repo:
        commit = repo.commit(branch).hexsha
        repo.git.push(push_url, f"refs/heads/{branch}:refs/heads/{branch}")
    return commit
