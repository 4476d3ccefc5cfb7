"""Symbolic links and file modes in the artifact: read from git's raw diff, links out of bounds refused.

A link is out of bounds when its target, resolved from the link's folder and through any link already
in the workspace, lies outside the repository (an absolute path, `..` past the root, a loop), inside
`.git`, or on a path `spec.output.paths` does not allow: publishing it would put a pointer to the
runner's or a reviewer's files into the branch (`/etc/passwd`, the forge's data) with no diff to show.
The publisher refuses such links (`SymlinkOutOfBounds`) before anything is pushed unless the Agent
allows them; every link and mode change that is published is shown on the surface (`review.filemodes`).
"""

from __future__ import annotations

import dataclasses
import posixpath
from dataclasses import dataclass
from pathlib import Path

import git

from atomesh.review import ChangedFile
from atomesh.review.filemodes import SYMLINK
from atomesh.runner.paths import allowed

TARGET_SHOWN = 200  # characters of a refused link's target in the failure message


@dataclass(frozen=True)
class ModeChange:
    """One path of `git diff --raw`: its modes before and after ("000000" absent) and its new blob."""

    path: str
    mode: str
    previous_mode: str
    blob: str


def mode_changes(repo: git.Repo, *revisions: str) -> dict[str, ModeChange]:
    """`git diff --raw <revisions>` by path (the new path of a rename)."""
    raw = repo.git.diff("--raw", "-z", "-M", "--no-abbrev", *revisions)
    fields = raw.split("\0")
    changes: dict[str, ModeChange] = {}
    index = 0
    while index < len(fields) and fields[index].startswith(":"):
        old_mode, new_mode, _, new_blob, status = fields[index][1:].split(" ", 4)
        if status.startswith(("R", "C")):
            path = fields[index + 2]
            index += 3
        else:
            path = fields[index + 1]
            index += 2
        changes[path] = ModeChange(path, new_mode, old_mode, new_blob)
    return changes


def link_target(repo: git.Repo, blob: str) -> str:
    """A link's target: the content of its blob."""
    data: bytes = repo.odb.stream(bytes.fromhex(blob)).read()
    return data.decode("utf-8", errors="replace")


def out_of_bounds(link: str, target: str, workspace: Path, patterns: list[str]) -> str | None:
    """Why the link at `link` (repository-relative) to `target` is out of bounds; None if it is not."""
    if posixpath.isabs(target):
        return "an absolute path, outside the repository"
    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(link), target))
    if lexical == ".." or lexical.startswith("../"):
        return "outside the repository"
    root = workspace.resolve()
    try:
        resolved = (root / lexical).resolve()  # through links already in the workspace
    except (OSError, RuntimeError):
        return "a loop of links"
    if not resolved.is_relative_to(root):
        return "outside the repository, through another link"
    relative = resolved.relative_to(root).as_posix()
    if relative == "." or relative == ".git" or relative.startswith(".git/"):
        return "the repository itself or its .git folder"
    if not allowed(relative, patterns):
        return f"{relative}, outside spec.output.paths"
    return None


def refused_links(repo: git.Repo, workspace: Path, patterns: list[str], *revisions: str) -> list[str]:
    """`link -> target (why)` for every link the change adds or changes that is out of bounds, sorted."""
    refused = []
    for change in sorted(mode_changes(repo, *revisions).values(), key=lambda change: change.path):
        if change.mode != SYMLINK:
            continue
        target = link_target(repo, change.blob)
        why = out_of_bounds(change.path, target, workspace, patterns)
        if why is not None:
            shown = " ".join(target.split())[:TARGET_SHOWN]
            refused.append(f"{change.path} -> {shown} ({why})")
    return refused


def with_modes(repo: git.Repo, base: str, head: str, files: tuple[ChangedFile, ...]) -> tuple[ChangedFile, ...]:
    """`files` with their modes and link targets, for the surface to show."""
    changes = mode_changes(repo, base, head)
    result = []
    for changed in files:
        change = changes.get(changed.path)
        if change is None:
            result.append(changed)
            continue
        target = link_target(repo, change.blob) if change.mode == SYMLINK else None
        result.append(
            dataclasses.replace(
                changed,
                mode="" if change.mode == "000000" else change.mode,
                previous_mode="" if change.previous_mode == "000000" else change.previous_mode,
                link_target=target,
                before=None if change.previous_mode == SYMLINK else changed.before,
                after=None if change.mode == SYMLINK else changed.after,
            )
        )
    return tuple(result)
