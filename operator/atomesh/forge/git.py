"""GitPython helpers for the runner: clone, collect the change, commit, push.

The forge token never enters a URL, a command line or .git/config: git receives it as an
`http.extraHeader` through GIT_CONFIG_* environment variables, which live only as long as the
one git process (`git -c` would show it in `ps` and in GitPython's error messages).
"""

from __future__ import annotations

import base64
import io
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import git

from atomesh.api.common import redact_userinfo
from atomesh.forge.errors import GitError

FileStatus = Literal["added", "modified", "deleted", "renamed"]
GIT_TIMEOUT = 600.0
_STATUS: dict[str, FileStatus] = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "T": "modified"}


def basic_auth(token: str) -> str:
    """The Authorization header value git sends: GitHub accepts the token as x-access-token's password."""
    return "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()


def auth_env(token: str | None) -> dict[str, str]:
    """Environment for one git command: no prompts, and the token as an extra HTTP header."""
    env = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "GCM_INTERACTIVE": "never"}
    if token:
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: {basic_auth(token)}",
        )
    return env


def repo_url(repo: str, git_base_url: str | None) -> str:
    """A clone URL: `owner/name` on the forge (`<git base>/owner/name.git`), or a URL or path as given."""
    if "://" in repo or repo.startswith(("/", "git@", "file:")) or git_base_url is None:
        return repo
    return f"{git_base_url.rstrip('/')}/{repo}.git"


# Git configuration a publish keeps from the workspace: only what the repository's format needs.
_KEPT_EXTENSIONS = ("objectformat", "refstorage")
# Neither the system's nor the user's configuration: $HOME lies on the volume the agent step could write.
_UNTRUSTED_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def open_untrusted(workspace: Path, url: str) -> git.Repo:
    """The workspace repository after the agent had it: its configuration replaced, hooks off.

    The agent step can write anywhere on the shared volume, .git and $HOME included. Hooks,
    core.fsmonitor, filters, pushurl or insteadOf left there would run with, or send away, the
    forge token publish holds; so .git/config is rewritten to the origin remote at `url` alone,
    hooks point at nothing, and the global and system configuration are not read.
    """
    repo = git.Repo(workspace)
    reader = repo.config_reader("repository")
    version = reader.get_value("core", "repositoryformatversion", 0)
    lines = [
        "[core]",
        f"\trepositoryformatversion = {version}",
        "\tbare = false",
        "\tlogallrefupdates = true",
        f"\thooksPath = {os.devnull}",
        "\tfsmonitor = false",
    ]
    extensions = [
        (key, reader.get_value("extensions", key)) for key in _KEPT_EXTENSIONS if reader.has_option("extensions", key)
    ]
    if extensions:
        lines += ["[extensions]", *(f"\t{key} = {value}" for key, value in extensions)]
    lines += ['[remote "origin"]', f"\turl = {url}", "\tfetch = +refs/heads/*:refs/remotes/origin/*"]
    (Path(repo.git_dir) / "config").write_text("\n".join(lines) + "\n", encoding="utf-8")
    repo.close()
    repo = git.Repo(workspace)
    repo.git.update_environment(**_UNTRUSTED_ENV)
    return repo


def clone(url: str, dest: Path, branch: str, token: str | None = None) -> git.Repo:
    """Clone `branch` of `url` into `dest` (full history: revisions and diffs need the base). Raises GitError."""
    try:
        return git.Repo.clone_from(
            url, dest, branch=branch, env={**os.environ, **auth_env(token)}, kill_after_timeout=GIT_TIMEOUT
        )
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot clone {redact_userinfo(url)} at {branch!r}", error) from None


def checkout_commit(url: str, dest: Path, commit: str, token: str | None = None) -> git.Repo:
    """Clone `url` and check out exactly `commit` (an agent's source, pinned by the operator). Raises GitError."""
    try:
        repo = git.Repo.clone_from(
            url, dest, no_checkout=True, env={**os.environ, **auth_env(token)}, kill_after_timeout=GIT_TIMEOUT
        )
        repo.git.checkout("--detach", commit)
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot check out {redact_userinfo(url)} at {commit}", error) from None
    return repo


@dataclass(frozen=True)
class Change:
    path: str
    status: FileStatus
    additions: int = 0
    deletions: int = 0
    previous_path: str | None = None
    binary: bool = False


def changed_paths(repo: git.Repo) -> list[str]:
    """Files the working tree changed or added (untracked included), without staging anything."""
    output = repo.git.status("--porcelain", "-z", "--untracked-files=all")
    paths: list[str] = []
    fields = output.split("\0")
    index = 0
    while index < len(fields) and fields[index]:
        code, path = fields[index][:2], fields[index][3:]
        paths.append(path)
        index += 2 if code.startswith(("R", "C")) else 1  # a rename is followed by its old path
    return paths


def stage_all(repo: git.Repo) -> None:
    """Stage every change in the working tree, new files included, so one diff sees them all."""
    repo.git.add("--all")


def staged_changes(repo: git.Repo) -> list[Change]:
    """Changes staged against HEAD (what the agent did), renames detected."""
    return diff_changes(repo, "--cached", "HEAD")


def diff_changes(repo: git.Repo, *revisions: str) -> list[Change]:
    """`git diff <revisions>` as Changes with line counts (binary files count 0), renames detected."""
    name_status = repo.git.diff("--name-status", "-M", "-z", *revisions)
    counts = _parse_numstat(repo.git.diff("--numstat", "-M", "-z", *revisions))
    changes: list[Change] = []
    fields = name_status.split("\0")
    index = 0
    while index < len(fields) and fields[index]:
        code = fields[index]
        if code.startswith(("R", "C")):
            previous, path = fields[index + 1], fields[index + 2]
            index += 3
        else:
            previous, path = None, fields[index + 1]
            index += 2
        additions, deletions, binary = counts.get(path, (0, 0, False))
        status = _STATUS.get(code[0], "modified")
        changes.append(Change(path, status, additions, deletions, previous if status == "renamed" else None, binary))
    return changes


def merge_base(repo: git.Repo, one: str, other: str) -> str | None:
    try:
        return str(repo.git.merge_base(one, other)).strip() or None
    except git.GitCommandError:
        return None


def _parse_numstat(output: str) -> dict[str, tuple[int, int, bool]]:
    """`git diff --numstat -z`: "a\\td\\tpath\\0", or "a\\td\\t\\0old\\0new\\0" for renames; "-" means binary."""
    counts: dict[str, tuple[int, int, bool]] = {}
    fields = output.split("\0")
    index = 0
    while index < len(fields) and fields[index]:
        added, deleted, path = fields[index].split("\t", 2)
        if path:
            index += 1
        else:
            path = fields[index + 2]
            index += 3
        binary = added == "-"
        counts[path] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
    return counts


def file_at(repo: git.Repo, revision: str, path: str) -> bytes | None:
    """Content of `path` at `revision`, or None when it does not exist there."""
    try:
        blob = repo.commit(revision).tree / path
    except KeyError:
        return None
    data: bytes = blob.data_stream.read()
    return data


def commit(repo: git.Repo, message: str, name: str, email: str) -> str:
    actor = git.Actor(name, email)
    # GitPython runs commit hooks itself; the workspace's hooks are the agent's, never run them.
    made = repo.index.commit(message, author=actor, committer=actor, skip_hooks=True)
    return made.hexsha


def push(repo: git.Repo, branch: str, token: str | None = None, force: bool = False) -> None:
    """Push HEAD to `branch` on origin; the token travels only in this command's environment. Raises GitError."""
    args = ["--porcelain", "origin", f"HEAD:refs/heads/{branch}"]
    if force:
        args.insert(0, "--force")
    try:
        with repo.git.custom_environment(**auth_env(token)):
            repo.git.push(*args, kill_after_timeout=GIT_TIMEOUT)
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot push {branch}", error) from None


def push_files_to_ref(
    repo: git.Repo, ref: str, files: dict[str, bytes], message: str, name: str, email: str, token: str | None = None
) -> str:
    """Commit `files` (path -> bytes) as a tree of their own, parentless, and force-push it to `ref` on
    origin; the work tree, index and HEAD stay as they are. Returns the commit's sha. Raises GitError."""
    index_file = Path(repo.git_dir) / "atomesh-assets.index"
    actor = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name}
    actor["GIT_COMMITTER_EMAIL"] = email
    try:
        index_file.unlink(missing_ok=True)
        with repo.git.custom_environment(GIT_INDEX_FILE=str(index_file), **actor):
            for path, data in sorted(files.items()):
                with tempfile.TemporaryFile() as handle:  # GitPython streams `istream` from a real file
                    handle.write(data)
                    handle.seek(0)
                    sha = repo.git.hash_object("-w", "--stdin", istream=handle)
                repo.git.update_index("--add", "--cacheinfo", f"100644,{sha},{path}")
            tree = repo.git.write_tree()
            commit = str(repo.git.commit_tree(tree, "-m", message))
        with repo.git.custom_environment(**auth_env(token)):
            repo.git.push("--force", "--porcelain", "origin", f"{commit}:{ref}", kill_after_timeout=GIT_TIMEOUT)
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot push {ref}", error) from None
    finally:
        index_file.unlink(missing_ok=True)
    return commit


def export_tree(repo: git.Repo, revision: str, folder: str, dest: Path) -> None:
    """The files under `folder` at `revision`, written below `dest` (no checkout, no hooks). Raises GitError."""
    try:
        archive = repo.git.archive("--format=tar", revision, "--", folder, stdout_as_string=False)
    except git.GitCommandError as error:
        raise GitError.from_command(f"cannot export {folder} at {revision}", error) from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
