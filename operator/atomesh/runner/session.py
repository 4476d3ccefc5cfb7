"""The harness session of a run, kept with the run so a revision resumes it.

The agent step leaves the harness's session in `<state>/session/current.json`, scrubbed of the run's
credentials and bounded (MAX_SESSION_BYTES; a larger one is dropped, so the revision starts afresh).
publish stores it as a commit of one file, `session.json`, at the hidden ref
`refs/atomesh/sessions/<run>` of the workspace repository (never a branch: no pull request shows it);
a revision's checkout fetches the ref of the run it revises into `<state>/session/previous.json`.
A session that cannot be stored or found is logged, never a failure: the revision then starts afresh.

A paused run's session commit has one parent: the workspace as the agent left it (a commit on the
checked-out head), so one ref keeps both. The run's next attempt (`attempt` > 1) fetches its own ref,
puts that work back into its workspace as uncommitted changes on the same head, and resumes the session.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import git

from atomesh.api import constants as k
from atomesh.forge import git as gitops
from atomesh.runner.context import StepContext

SESSION_DIR = "session"
PREVIOUS = "previous.json"
CURRENT = "current.json"
SESSION_FILE = "session.json"
MAX_SESSION_BYTES = 8_000_000
_IDENTITY = {
    "GIT_AUTHOR_NAME": "atomesh",
    "GIT_AUTHOR_EMAIL": "atomesh@users.noreply.github.com",
    "GIT_COMMITTER_NAME": "atomesh",
    "GIT_COMMITTER_EMAIL": "atomesh@users.noreply.github.com",
}


def session_ref(run: str) -> str:
    return f"{k.SESSION_REF_PREFIX}/{run}"


def previous_session(ctx: StepContext) -> Path:
    return ctx.state_dir / SESSION_DIR / PREVIOUS


def current_session(ctx: StepContext) -> Path:
    return ctx.state_dir / SESSION_DIR / CURRENT


def fetch_session(ctx: StepContext, repo: git.Repo, token: str | None) -> bool:
    """The session to resume into previous.json — a resumed run's own (and its work into the workspace), else
    that of the run this one revises; False when there is none."""
    run = ctx.run
    resumed = run.attempt is not None
    source = run.run if resumed else run.revision_of
    if not source:
        return False
    ref = session_ref(source)
    try:
        with repo.git.custom_environment(**gitops.auth_env(token)):
            repo.git.fetch("origin", f"+{ref}:{ref}", kill_after_timeout=gitops.GIT_TIMEOUT)
        if resumed:
            restore_work(ctx, repo, ref)
        data = repo.git.show(f"{ref}:{SESSION_FILE}", stdout_as_string=False)
    except git.GitCommandError as error:
        ctx.log(f"no session of {source} to resume ({ctx.scrub(str(error.stderr).strip()[-200:])}); starting anew")
        return False
    target = previous_session(ctx)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data if isinstance(data, bytes) else str(data).encode())
    ctx.log(f"resuming the session of {source}")
    return True


def restore_work(ctx: StepContext, repo: git.Repo, ref: str) -> None:
    """Check out the paused work (the session commit's parent) and step back to its own parent, leaving the
    work as uncommitted changes on the head the paused attempt had: publish sees the same change it would have."""
    parents = repo.commit(ref).parents
    if not parents:
        return
    work = parents[0]
    repo.git.reset("--hard", work.hexsha)
    repo.git.reset("--mixed", work.parents[0].hexsha if work.parents else work.hexsha)
    ctx.log(f"restored the paused work on {repo.head.commit.hexsha[:12]}")


def seal_session(ctx: StepContext) -> None:
    """Scrub the session the harness wrote; drop it when over MAX_SESSION_BYTES."""
    path = current_session(ctx)
    if not path.is_file():
        return
    if path.stat().st_size > MAX_SESSION_BYTES:
        path.unlink()
        ctx.log(f"the session is larger than {MAX_SESSION_BYTES} bytes and is not kept; a revision starts afresh")
        return
    path.write_text(ctx.scrub(path.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")


def snapshot_work(ctx: StepContext, repo: git.Repo) -> str:
    """A commit of the workspace as it is (every change staged), on its head; the head is not moved."""
    gitops.stage_all(repo)
    with repo.git.custom_environment(**_IDENTITY):
        tree = repo.git.write_tree()
        message = f"atomesh paused work of {ctx.run.namespace}/{ctx.run.run}"
        return str(repo.git.commit_tree(tree, "-p", repo.head.commit.hexsha, "-m", message))


def store_session(ctx: StepContext, repo: git.Repo, token: str | None, work: str | None = None) -> str | None:
    """Push current.json as `session.json` to the run's session ref (with `work`, a commit, as its parent);
    the ref, or None when not stored."""
    path = current_session(ctx)
    if not path.is_file() and work is None:
        return None
    ref = session_ref(ctx.run.run)
    with tempfile.TemporaryDirectory(dir=ctx.state_dir, prefix=".session-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index"), **_IDENTITY}
        try:
            with repo.git.custom_environment(**env):
                if path.is_file():
                    blob = repo.git.hash_object("-w", str(path))
                    repo.git.update_index("--add", "--cacheinfo", f"100644,{blob},{SESSION_FILE}")
                tree = repo.git.write_tree()
                parents = ["-p", work] if work else []
                message = f"atomesh session of {ctx.run.namespace}/{ctx.run.run}"
                commit = repo.git.commit_tree(tree, *parents, "-m", message)
            with repo.git.custom_environment(**gitops.auth_env(token)):
                repo.git.push("--force", "origin", f"{commit}:{ref}", kill_after_timeout=gitops.GIT_TIMEOUT)
        except git.GitCommandError as error:
            ctx.log(f"the session was not stored at {ref}: {ctx.scrub(str(error.stderr).strip()[-300:])}")
            return None
    ctx.log(f"session stored at {ref}")
    return ref
