"""The run's pinned contexts, materialised read-only outside the workspace.

checkout fetches each git context at its pinned commit into `<state>/contexts/<name>` (forge read
credentials, only for the forge's host); ConfigMap contexts arrive as a read-only volume, and the agent
step checks each against the digest the run pinned. Every context stays within its `maxBytes`.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from pathlib import Path

from atomesh.api import conditions as c
from atomesh.api.context import ContextVersion
from atomesh.core.context import content_digest
from atomesh.core.contextdoc import ContextDocuments, ContextOverflow, render_context
from atomesh.forge import git as gitops
from atomesh.forge.errors import GitError
from atomesh.runner.checkout import token_for
from atomesh.runner.context import StepContext
from atomesh.runner.failure import StepFailure

CONTEXTS_DIR = "contexts"


def git_context_dir(ctx: StepContext, version: ContextVersion) -> Path:
    return ctx.state_dir / CONTEXTS_DIR / version.key


def read_files(folder: Path, limit: int | None = None) -> dict[str, bytes]:
    """Regular files under `folder` by relative path; `..`-prefixed entries (a ConfigMap volume's own) and
    `.git` are skipped. Stops reading once past `limit` bytes (the caller reports the overflow)."""
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith("..") or part == ".git" for part in relative.parts) or not path.is_file():
            continue
        data = path.read_bytes()
        files[relative.as_posix()] = data
        total += len(data)
        if limit is not None and total > limit:
            break
    return files


def make_read_only(folder: Path) -> None:
    """Files read-only; folders stay removable by their owner, so the volume can be cleaned up by a
    kubelet that does not run as root (the text the harness is given was read before it starts)."""
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def fetch_git_contexts(ctx: StepContext) -> None:
    """Each git context's folder at its pinned commit, copied read-only into the state directory."""
    for version in ctx.run.contexts:
        if version.kind != "git" or not version.repo or not version.commit:
            continue
        url = gitops.repo_url(version.repo, ctx.forge_git_url)
        dest = git_context_dir(ctx, version)
        dest.parent.mkdir(parents=True, exist_ok=True)  # the state directory starts empty in a pod
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".fetch-") as tmp:
            try:
                gitops.checkout_commit(url, Path(tmp) / "repo", version.commit, token_for(ctx, url)).close()
            except GitError as error:
                message = (
                    f"cannot fetch Context {version.name!r} from {version.repo} at {version.commit}: {error.detail}"
                )
                raise StepFailure(c.CONTEXT_UNAVAILABLE, ctx.scrub(message)) from None
            source = (Path(tmp) / "repo" / (version.path or ".")).resolve()
            if not source.is_dir() or not source.is_relative_to((Path(tmp) / "repo").resolve()):
                raise StepFailure(
                    c.CONTEXT_UNAVAILABLE,
                    f"Context {version.name!r}: folder {version.path!r} is missing in {version.repo} at "
                    f"{version.commit}; fix spec.git.path of the Context",
                )
            files = read_files(source, version.max_bytes)
            if sum(len(data) for data in files.values()) > version.max_bytes:
                raise StepFailure(c.CONTEXT_TOO_LARGE, str(ContextOverflow(version, sum(map(len, files.values())))))
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git"))
        make_read_only(dest)
        ctx.log(f"context {version.name} {version.revision}")


def context_folders(ctx: StepContext) -> list[tuple[ContextVersion, Path]]:
    """Where each pinned context lies in this pod."""
    folders = []
    for version in ctx.run.contexts:
        if version.kind == "git":
            folders.append((version, git_context_dir(ctx, version)))
        elif ctx.context_dir is not None:
            folders.append((version, ctx.context_dir / version.name))
        else:
            raise StepFailure(c.CONTEXT_UNAVAILABLE, f"Context {version.name!r}: the pod mounts no context volume")
    return folders


def load_contexts(ctx: StepContext) -> tuple[str, tuple[Path, ...]]:
    """The rendered context text and its folders; fails on a changed ConfigMap or an oversized context."""
    documents = []
    folders = context_folders(ctx)
    for version, folder in folders:
        if not folder.is_dir():
            raise StepFailure(c.CONTEXT_UNAVAILABLE, f"Context {version.name!r} is missing at {folder}")
        files = read_files(folder, version.max_bytes)
        if sum(len(data) for data in files.values()) > version.max_bytes:
            raise StepFailure(c.CONTEXT_TOO_LARGE, str(ContextOverflow(version, sum(map(len, files.values())))))
        if version.kind == "configMap" and content_digest(files) != version.digest:
            raise StepFailure(
                c.CONTEXT_CHANGED,
                f"ConfigMap {version.config_map!r} of Context {version.name!r} changed after it was pinned "
                f"({version.digest}); the next run uses the new version",
            )
        documents.append(ContextDocuments(version, files))
    from atomesh.runner.memory import memory_documents  # memory reads files the way contexts do

    memory = memory_documents(ctx)
    if memory is not None:
        documents.append(memory)
    try:
        return render_context(documents), tuple(folder for _, folder in folders)
    except ContextOverflow as error:
        raise StepFailure(c.CONTEXT_TOO_LARGE, str(error)) from None
