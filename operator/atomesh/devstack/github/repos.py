"""Git storage of the GitHub emulator: real bare repositories on disk, driven by the git CLI.

Clones and pushes reach these repositories through `git http-backend`; the REST API reads
them here. Merges are real: `git merge-tree --write-tree` computes the merged tree without
a worktree and `git commit-tree` records a merge commit with both parents.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MergeMethod = Literal["merge", "squash", "rebase"]


class GitError(RuntimeError):
    """A git command failed; the message carries git's stderr."""


class MergeConflict(GitError):
    """The head cannot be merged into the base without conflicts."""


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author: Identity
    author_date: str
    committer: Identity
    committer_date: str
    message: str


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added, modified, removed, renamed
    additions: int
    deletions: int


def _pair(line: str) -> tuple[str, str]:
    name, _, sha = line.partition(" ")
    return name, sha


def _git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise GitError("git is not on PATH; the GitHub emulator needs the git CLI")
    return found


class GitStorage:
    """Bare repositories under `root`, one per `owner/name` at `<root>/<owner>/<name>.git`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git = _git_binary()
        root.mkdir(parents=True, exist_ok=True)

    def path(self, full_name: str) -> Path:
        return self.root / f"{full_name}.git"

    def exists(self, full_name: str) -> bool:
        return (self.path(full_name) / "HEAD").is_file()

    def run(
        self,
        full_name: str,
        *args: str,
        input_bytes: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        # A clean environment keeps the user's git config (hooks, signing) out of the emulator.
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.root),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "LANG": "C",
        }
        full_env.update(env or {})
        result = subprocess.run(
            [self.git, "--git-dir", str(self.path(full_name)), *args],
            input=input_bytes,
            capture_output=True,
            env=full_env,
            check=False,
            # Out of the terminal's process group: Ctrl-C stops the stack in its order, not a git mid-request.
            start_new_session=True,
        )
        if check and result.returncode != 0:
            message = result.stderr.decode(errors="replace").strip()
            raise GitError(f"git {args[0]} failed in {full_name}: {message}")
        return result

    def out(self, full_name: str, *args: str, env: dict[str, str] | None = None) -> str:
        return self.run(full_name, *args, env=env).stdout.decode().strip()

    def create(self, full_name: str, default_branch: str = "main") -> None:
        path = self.path(full_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [self.git, "init", "-q", "--bare", "-b", default_branch, str(path)],
            check=True,
            capture_output=True,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(self.root), "GIT_CONFIG_NOSYSTEM": "1"},
        )
        # Pushes over HTTP need receive-pack enabled; http-backend enables it for authenticated users.
        self.run(full_name, "config", "http.receivepack", "true")

    def branches(self, full_name: str) -> dict[str, str]:
        lines = self.out(full_name, "for-each-ref", "refs/heads", "--format=%(refname:lstrip=2) %(objectname)")
        return dict(_pair(line) for line in lines.splitlines() if line)

    def refs(self, full_name: str, prefix: str = "refs/") -> dict[str, str]:
        lines = self.out(full_name, "for-each-ref", prefix, "--format=%(refname) %(objectname)")
        return dict(_pair(line) for line in lines.splitlines() if line)

    def resolve(self, full_name: str, ref: str) -> str | None:
        result = self.run(full_name, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.decode().strip() or None

    def update_ref(self, full_name: str, ref: str, sha: str, old: str | None = None) -> None:
        args = ["update-ref", ref, sha] + ([old] if old else [])
        self.run(full_name, *args)

    def delete_ref(self, full_name: str, ref: str) -> None:
        self.run(full_name, "update-ref", "-d", ref)

    def commit(self, full_name: str, sha: str) -> CommitInfo:
        fmt = "%H%n%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B"
        text = self.run(full_name, "show", "-s", f"--format={fmt}", sha).stdout.decode()
        lines = text.split("\n", 9)
        return CommitInfo(
            sha=lines[0],
            tree=lines[1],
            parents=lines[2].split(),
            author=Identity(lines[3], lines[4]),
            author_date=lines[5],
            committer=Identity(lines[6], lines[7]),
            committer_date=lines[8],
            message=lines[9].rstrip("\n") if len(lines) > 9 else "",
        )

    def is_ancestor(self, full_name: str, ancestor: str, descendant: str) -> bool:
        return self.run(full_name, "merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0

    def merge_tree(self, full_name: str, base: str, head: str) -> str:
        """The tree of merging `head` into `base`; raises MergeConflict when they conflict."""
        result = self.run(full_name, "merge-tree", "--write-tree", "--no-messages", base, head, check=False)
        if result.returncode == 1:
            raise MergeConflict(f"merging {head[:12]} into {base[:12]} conflicts")
        if result.returncode != 0:
            raise GitError(f"git merge-tree failed in {full_name}: {result.stderr.decode(errors='replace')}")
        return result.stdout.decode().split("\n", 1)[0].strip()

    def mergeable(self, full_name: str, base: str, head: str) -> bool:
        try:
            self.merge_tree(full_name, base, head)
        except MergeConflict:
            return False
        return True

    def commit_tree(
        self, full_name: str, tree: str, parents: list[str], message: str, author: Identity, committer: Identity
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
        }
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(full_name, *args, input_bytes=message.encode(), env=env).stdout.decode().strip()

    def merge(self, full_name: str, base: str, head: str, method: MergeMethod, message: str, author: Identity) -> str:
        """Merge commit `head` onto commit `base`; returns the new tip (not yet written to any branch)."""
        committer = Identity("GitHub", "noreply@github.com")
        if method == "merge":
            tree = self.merge_tree(full_name, base, head)
            return self.commit_tree(full_name, tree, [base, head], message, author, committer)
        if method == "squash":
            tree = self.merge_tree(full_name, base, head)
            return self.commit_tree(full_name, tree, [base], message, author, committer)
        # rebase: replay each commit of head (oldest first) on top of base, keeping authorship. Each
        # commit's own diff is applied to a scratch index (git 2.39 has no `merge-tree --merge-base`).
        tip = base
        listing = self.out(full_name, "rev-list", "--reverse", "--no-merges", f"{base}..{head}")
        for sha in listing.split():
            info = self.commit(full_name, sha)
            tree = self._apply_commit(full_name, tip, info)
            tip = self.commit_tree(full_name, tree, [tip], info.message, info.author, committer)
        return tip

    def _apply_commit(self, full_name: str, onto: str, info: CommitInfo) -> str:
        parent = info.parents[0] if info.parents else self.out(full_name, "hash-object", "-t", "tree", "/dev/null")
        patch = self.run(full_name, "diff", "--binary", "--full-index", parent, info.sha).stdout
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self.run(full_name, "read-tree", onto, env=env)
            if patch:
                applied = self.run(full_name, "apply", "--cached", "-3", input_bytes=patch, env=env, check=False)
                if applied.returncode != 0:
                    raise MergeConflict(f"commit {info.sha[:12]} does not apply onto {onto[:12]}")
            return self.out(full_name, "write-tree", env=env)

    def write_commit(
        self, full_name: str, files: dict[str, bytes], message: str, author: Identity, parents: list[str]
    ) -> str:
        """A commit whose tree is exactly `files` (paths → contents), built without a worktree."""
        with tempfile.TemporaryDirectory() as scratch:
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            for path, content in sorted(files.items()):
                blob = self.run(full_name, "hash-object", "-w", "--stdin", input_bytes=content).stdout.decode().strip()
                self.run(full_name, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self.out(full_name, "write-tree", env=env)
        return self.commit_tree(full_name, tree, parents, message, author, author)

    def diff(self, full_name: str, base: str, head: str) -> str:
        """The three-dot diff GitHub shows on a pull request (changes on head since the merge base)."""
        return self.run(full_name, "diff", "--no-color", f"{base}...{head}").stdout.decode(errors="replace")

    def changed_files(self, full_name: str, base: str, head: str) -> list[FileChange]:
        statuses = {"A": "added", "M": "modified", "D": "removed", "R": "renamed"}
        names = self.out(full_name, "diff", "--name-status", "--no-renames", f"{base}...{head}")
        counts = self.out(full_name, "diff", "--numstat", "--no-renames", f"{base}...{head}")
        numbers: dict[str, tuple[int, int]] = {}
        for line in counts.splitlines():
            plus, minus, path = line.split("\t", 2)
            numbers[path] = (int(plus) if plus.isdigit() else 0, int(minus) if minus.isdigit() else 0)
        changes = []
        for line in names.splitlines():
            code, path = line.split("\t", 1)
            added, deleted = numbers.get(path, (0, 0))
            changes.append(FileChange(path, statuses.get(code[0], "modified"), added, deleted))
        return changes

    def read_blob(self, full_name: str, ref: str, path: str) -> bytes | None:
        result = self.run(full_name, "show", f"{ref}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def list_tree(self, full_name: str, ref: str, path: str) -> list[tuple[str, str, str]] | None:
        """(type, sha, name) for the entries of directory `path` at `ref`; None when it is not a directory."""
        spec = f"{ref}:{path}" if path else f"{ref}^{{tree}}"
        result = self.run(full_name, "ls-tree", spec, check=False)
        if result.returncode != 0:
            return None
        entries = []
        for line in result.stdout.decode().splitlines():
            meta, name = line.split("\t", 1)
            _mode, kind, sha = meta.split()
            entries.append((kind, sha, name))
        return entries
