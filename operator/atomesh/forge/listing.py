"""Reading a repository's listing through the GitHub API: the bytes of a folder (the contents API lists a
directory's files with their sizes) and the refs under a prefix (the git refs API), both bounded."""

from __future__ import annotations

from github.ContentFile import ContentFile
from github.Repository import Repository

from atomesh.forge.retry import GitHubForgeError, Retrier

MAX_FOLDER_ENTRIES = 2_000  # a memory folder is a few hundred files; more is not a memory folder
MAX_REFS = 10_000


def folder_bytes(retrier: Retrier, gh_repo: Repository, ref: str, path: str) -> int:
    """Total bytes of the files under `path` at `ref` (subfolders included); 0 when there is no such folder."""
    total, seen, pending = 0, 0, [path.strip("/")]
    while pending:
        folder = pending.pop()

        def list_folder(folder: str = folder) -> ContentFile | list[ContentFile]:
            return gh_repo.get_contents(folder, ref=ref)

        try:
            found = retrier.call(f"list {folder} of {gh_repo.full_name}@{ref}", list_folder)
        except GitHubForgeError as exc:
            if exc.status == 404:
                continue
            raise
        entries = found if isinstance(found, list) else [found]
        seen += len(entries)
        if seen > MAX_FOLDER_ENTRIES:
            raise GitHubForgeError(f"{path} of {gh_repo.full_name} has more than {MAX_FOLDER_ENTRIES} entries")
        for entry in entries:
            if entry.type == "dir":
                pending.append(entry.path)
            elif entry.type == "file":
                total += int(entry.size or 0)
    return total


def refs_under(retrier: Retrier, gh_repo: Repository, prefix: str) -> list[str]:
    """Full names of the refs starting with `prefix` (e.g. `refs/atomesh/sessions/`), sorted."""
    wanted = prefix.removeprefix("refs/").rstrip("/")

    def collect() -> list[str]:
        names: list[str] = []
        for ref in gh_repo.get_git_matching_refs(wanted):  # GitHub answers [] when none matches
            names.append(ref.ref)
            if len(names) >= MAX_REFS:
                break
        return names

    found = retrier.call(f"list refs {prefix} of {gh_repo.full_name}", collect)
    return sorted(name for name in found if name.startswith(prefix))
